"""Tests for scripts/fetch-models with wheels built in a temporary directory (no network needed): pip's
part is played by a fake `download(package, version, dest)` that copies those wheels."""
import contextlib
import errno
import hashlib
import importlib.machinery
import importlib.util
import io
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import unittest
import zipfile
from pathlib import Path, PurePosixPath
from unittest import mock

SCRIPT = Path(__file__).resolve().parent / "fetch-models"
MANIFEST = SCRIPT.parent.parent / "models" / "manifest.toml"


def load_fetcher():
    loader = importlib.machinery.SourceFileLoader("fetch_models", str(SCRIPT))
    spec = importlib.util.spec_from_loader("fetch_models", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


fm = load_fetcher()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FakeIndex:
    """Stands in for PyPI and pip: wheels by package and version, and a record of each download."""

    def __init__(self, root: Path):
        self.root = root
        self.wheels = {}
        self.downloads = []

    def add(self, package: str, version: str, members: dict) -> Path:
        wheel = self.root / f"{package.replace('-', '_')}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as z:
            for name, data in members.items():
                z.writestr(name, data)
        self.wheels[(package, version)] = wheel
        return wheel

    def __call__(self, package: str, version: str, dest: Path) -> None:
        self.downloads.append(package)
        wheel = self.wheels.get((package, version))
        if wheel is None:
            raise fm.DownloadError(f"pip could not download {package}=={version}: "
                                   f"ERROR: No matching distribution found for {package}=={version}")
        (dest / wheel.name).write_bytes(wheel.read_bytes())


class Fetcher(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.dir)
        (self.dir / "index").mkdir()
        self.index = FakeIndex(self.dir / "index")
        self.models = self.dir / "models"
        self.cache = self.dir / "cache"
        patch = mock.patch.dict(os.environ, {"XDG_CACHE_HOME": str(self.cache)})
        patch.start()
        self.addCleanup(patch.stop)

    def run_fetch(self, manifest: Path, *extra):
        """Runs the fetcher in this process with the fake index; returns (exit status, stdout, stderr)."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = fm.main(["--manifest", str(manifest), "--models-dir", str(self.models), *extra],
                           download=self.index)
        return code, out.getvalue(), err.getvalue()

    def cached(self, name: str, path: str) -> Path:
        return self.cache / "cairn" / "models" / name / path

    def leftovers(self) -> list:
        """Temporary files left anywhere under models/ or the cache."""
        return [p for root in (self.models, self.cache) if root.exists()
                for p in root.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".download-")]


class SingleWheel(Fetcher):
    def setUp(self):
        super().setUp()
        self.payload = b"weights" * 100
        self.wheel = self.index.add("toy", "0.1", {"toy/model/weights.bin": self.payload})

    def manifest(self, file_sha=None, wheel_sha=None) -> Path:
        path = self.dir / "manifest.toml"
        path.write_text(f"""
[[model]]
name = "toy"
role = "chat"
group = "default"
package = "toy"
version = "0.1"
wheel_sha256 = "{wheel_sha or sha(self.wheel.read_bytes())}"
prefix = "toy/model/"
licence = "MIT"
files = [{{ path = "weights.bin", sha256 = "{file_sha or sha(self.payload)}" }}]
""")
        return path

    def test_fetches_verifies_and_is_idempotent(self):
        manifest = self.manifest()
        code, out, err = self.run_fetch(manifest)
        self.assertEqual(code, 0, err)
        self.assertIn("fetched 1 file", out)
        self.assertEqual((self.models / "toy/weights.bin").read_bytes(), self.payload)
        code, out, err = self.run_fetch(manifest)
        self.assertEqual(code, 0, err)
        self.assertIn("toy: verified", out)
        self.assertEqual(self.index.downloads, ["toy"])

    def test_a_wrong_file_hash_is_an_error_naming_the_file(self):
        code, _, err = self.run_fetch(self.manifest(file_sha="0" * 64))
        self.assertEqual(code, 1)
        self.assertIn("toy: error", err)
        self.assertIn("weights.bin", err)
        self.assertIn("SHA-256", err)
        self.assertFalse((self.models / "toy/weights.bin").exists(), "nothing unverified is kept")
        self.assertFalse(self.cached("toy", "weights.bin").exists(), "nothing unverified is cached")
        self.assertEqual(self.leftovers(), [])

    def test_a_wrong_wheel_hash_is_an_error_naming_the_wheel(self):
        code, _, err = self.run_fetch(self.manifest(wheel_sha="0" * 64))
        self.assertEqual(code, 1)
        self.assertIn(self.wheel.name, err)
        self.assertEqual(list(self.cache.rglob("*.whl")), [], "a wheel that fails its check is not kept")

    def test_a_tampered_file_on_disk_is_reported_by_verify_only(self):
        manifest = self.manifest()
        self.assertEqual(self.run_fetch(manifest)[0], 0)
        (self.models / "toy/weights.bin").write_bytes(b"tampered")
        result = subprocess.run(
            [sys.executable, str(SCRIPT), "--manifest", str(manifest), "--models-dir", str(self.models),
             "--verify-only"],
            capture_output=True, text=True, env={**os.environ, "XDG_CACHE_HOME": str(self.cache)},
        )
        self.assertEqual(result.returncode, 1)
        self.assertIn("weights.bin", result.stderr)

    def test_verify_only_hashes_even_a_file_whose_size_and_mtime_were_kept(self):
        manifest = self.manifest()
        self.assertEqual(self.run_fetch(manifest)[0], 0)
        path = self.models / "toy/weights.bin"
        before = path.stat()
        path.write_bytes(b"x" * len(self.payload))
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        code, _, err = self.run_fetch(manifest, "--verify-only")
        self.assertEqual(code, 1)
        self.assertIn("weights.bin: SHA-256 does not match", err)

    def test_verify_only_reports_a_missing_file_and_downloads_nothing(self):
        code, _, err = self.run_fetch(self.manifest(), "--verify-only")
        self.assertEqual(code, 1)
        self.assertIn("weights.bin is missing", err)
        self.assertEqual(self.index.downloads, [])

    def test_a_file_fetched_before_the_cache_existed_goes_into_it(self):
        manifest = self.manifest()
        (self.models / "toy").mkdir(parents=True)
        (self.models / "toy/weights.bin").write_bytes(self.payload)
        code, out, err = self.run_fetch(manifest)
        self.assertEqual((code, out.strip()), (0, "toy: verified"), err)
        self.assertEqual(self.cached("toy", "weights.bin").read_bytes(), self.payload)
        self.assertEqual(self.index.downloads, [])


class SplitModel(Fetcher):
    """A model published as four part wheels whose data files are joined in name order."""

    def setUp(self):
        super().setUp()
        rng = random.Random(7)
        self.chunks = [rng.randbytes(3000 + 100 * i) for i in range(4)]
        self.joined = b"".join(self.chunks)
        self.parts = []
        for i, chunk in enumerate(self.chunks, start=1):
            package, member = f"toy-part{i}", f"toy_part{i}/data/part{i:02}.bin"
            wheel = self.index.add(package, "1.0", {member: chunk, f"toy_part{i}/__init__.py": b""})
            self.parts.append({"package": package, "member": member, "sha": sha(wheel.read_bytes())})

    def manifest(self, joined_sha=None, joined_bytes=None, part_sha=None, member=None, group="test") -> Path:
        joined_bytes, joined_sha = joined_bytes or len(self.joined), joined_sha or sha(self.joined)
        parts = "\n".join(
            f'    {{ package = "{p["package"]}", version = "1.0", '
            f'member = "{(member or {}).get(i, p["member"])}", '
            f'wheel_sha256 = "{(part_sha or {}).get(i, p["sha"])}" }},'
            # Listed out of order: the fetcher joins them in the name order of their data files.
            for i, p in sorted(enumerate(self.parts), key=lambda ip: -ip[0])
        )
        path = self.dir / "manifest.toml"
        path.write_text(f"""
[[extra]]
name = "Toy-Split"
role = "chat"
group = "{group}"
licence = "MIT"
source = "a toy"
joined = {{ path = "toy.gguf", bytes = {joined_bytes}, sha256 = "{joined_sha}" }}
parts = [
{parts}
]
""")
        return path

    @property
    def target(self) -> Path:
        return self.models / "Toy-Split/toy.gguf"

    def test_joins_the_parts_in_name_order_and_links_from_the_cache(self):
        code, out, err = self.run_fetch(self.manifest())
        self.assertEqual(code, 0, err)
        self.assertIn("Toy-Split: fetched 1 file(s) (4 wheel(s) downloaded)", out)
        self.assertEqual(self.target.read_bytes(), self.joined)
        cached = self.cached("Toy-Split", "toy.gguf")
        self.assertTrue(os.path.samefile(self.target, cached), "models/ holds a hard link to the cache")
        self.assertEqual(len(list(self.cached("Toy-Split", "wheels").rglob("*.whl"))), 4, "wheels are kept")
        self.assertEqual(self.leftovers(), [])

    def test_copies_when_the_cache_is_on_another_filesystem(self):
        def cross_device(src, dst):
            raise OSError(errno.EXDEV, "Invalid cross-device link")

        with mock.patch.object(fm.os, "link", cross_device):
            code, _, err = self.run_fetch(self.manifest())
        self.assertEqual(code, 0, err)
        self.assertEqual(self.target.read_bytes(), self.joined)
        self.assertFalse(os.path.samefile(self.target, self.cached("Toy-Split", "toy.gguf")))

    def test_a_rerun_downloads_and_hashes_nothing(self):
        manifest = self.manifest()
        self.assertEqual(self.run_fetch(manifest)[0], 0)
        self.index.downloads.clear()
        with mock.patch.object(fm, "sha256_file", side_effect=AssertionError("hashed again")):
            code, out, err = self.run_fetch(manifest)
        self.assertEqual((code, out.strip()), (0, "Toy-Split: verified"), err)
        self.assertEqual(self.index.downloads, [])

    def test_a_fresh_clone_takes_the_file_from_the_cache(self):
        manifest = self.manifest()
        self.assertEqual(self.run_fetch(manifest)[0], 0)
        self.index.downloads.clear()
        self.models = self.dir / "clone" / "models"
        code, out, err = self.run_fetch(manifest)
        self.assertEqual(code, 0, err)
        self.assertIn("Toy-Split: placed 1 file(s) from the cache", out)
        self.assertEqual(self.index.downloads, [])
        self.assertTrue(os.path.samefile(self.target, self.cached("Toy-Split", "toy.gguf")))

    def test_a_changed_file_is_caught_and_rebuilt_from_the_cached_wheels(self):
        manifest = self.manifest()
        self.assertEqual(self.run_fetch(manifest)[0], 0)
        with open(self.target, "r+b") as f:  # same size, new content
            f.write(b"GGUF")
        code, _, err = self.run_fetch(manifest)
        self.assertEqual(code, 1)
        self.assertIn("Toy-Split: error", err)
        self.assertIn("toy.gguf: SHA-256 does not match", err)
        self.target.unlink()
        self.index.downloads.clear()
        code, out, err = self.run_fetch(manifest)
        self.assertEqual(code, 0, err)
        self.assertIn("(0 wheel(s) downloaded)", out)
        self.assertEqual(self.target.read_bytes(), self.joined)

    def test_a_wrong_part_hash_names_the_model_and_the_wheel(self):
        code, _, err = self.run_fetch(self.manifest(part_sha={2: "0" * 64}))
        self.assertEqual(code, 1)
        self.assertIn("Toy-Split: error: toy_part3-1.0-py3-none-any.whl: SHA-256", err)
        self.assertFalse(self.target.exists())
        self.assertFalse(self.cached("Toy-Split", "toy.gguf").exists())
        self.assertFalse(any("part3" in w.name for w in self.cache.rglob("*.whl")))
        self.assertEqual(self.leftovers(), [])

    def test_a_wrong_joined_hash_is_an_error_and_nothing_is_kept(self):
        code, _, err = self.run_fetch(self.manifest(joined_sha="0" * 64))
        self.assertEqual(code, 1)
        self.assertIn("Toy-Split: error: toy.gguf joined from 4 parts: SHA-256 does not match", err)
        self.assertFalse(self.target.exists())
        self.assertFalse(self.cached("Toy-Split", "toy.gguf").exists())
        self.assertEqual(self.leftovers(), [])

    def test_a_wrong_joined_length_is_an_error(self):
        for claimed, says in [(len(self.joined) - 1, f"longer than the {len(self.joined) - 1} bytes"),
                              (len(self.joined) + 1, f"{len(self.joined)} bytes, models/manifest.toml says")]:
            code, _, err = self.run_fetch(self.manifest(joined_bytes=claimed))
            self.assertEqual(code, 1)
            self.assertIn(f"toy.gguf joined from 4 parts: {says}", err)
            self.assertFalse(self.target.exists())
            self.assertEqual(self.leftovers(), [])

    def test_a_missing_part_package_is_an_error_naming_it(self):
        del self.index.wheels[("toy-part4", "1.0")]
        code, _, err = self.run_fetch(self.manifest())
        self.assertEqual(code, 1)
        self.assertIn("Toy-Split: error: pip could not download toy-part4==1.0", err)
        self.assertFalse(self.target.exists())
        self.assertEqual(self.leftovers(), [])

    def test_a_part_wheel_without_its_data_file_is_an_error_naming_it(self):
        code, _, err = self.run_fetch(self.manifest(member={1: "toy_part2/data/part99.bin"}))
        self.assertEqual(code, 1)
        self.assertIn("toy_part2-1.0-py3-none-any.whl has no toy_part2/data/part99.bin", err)
        self.assertFalse(self.target.exists())

    def test_groups_choose_what_is_fetched(self):
        manifest = self.manifest(group="bench")
        code, out, _ = self.run_fetch(manifest)
        self.assertEqual((code, out, self.index.downloads), (0, "", []), "bench is not fetched by default")
        code, out, err = self.run_fetch(manifest, "--group", "default", "--group", "test")
        self.assertEqual((code, out, self.index.downloads), (0, "", []))
        code, out, err = self.run_fetch(manifest, "--group", "all")
        self.assertEqual(code, 0, err)
        self.assertIn("Toy-Split: fetched", out)


class PipDownload(unittest.TestCase):
    def test_pip_is_asked_for_the_package_by_name_and_version(self):
        with mock.patch.object(fm.subprocess, "run") as run:
            run.return_value = subprocess.CompletedProcess([], 0, "", "")
            fm.pip_download("toy-part1", "1.0", Path("/tmp/dest"))
        command = run.call_args.args[0]
        self.assertEqual(command[1:4], ["-m", "pip", "download"])
        for flag in ("--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "-q"):
            self.assertIn(flag, command)
        self.assertEqual(command[command.index("--dest") + 1], "/tmp/dest")
        self.assertEqual(command[-1], "toy-part1==1.0")
        self.assertFalse(any("://" in arg for arg in command))

    def test_a_pip_failure_names_the_package_and_pips_reason(self):
        with mock.patch.object(fm.subprocess, "run") as run:
            run.return_value = subprocess.CompletedProcess(
                [], 1, "", "ERROR: No matching distribution found for toy-part1==1.0\n")
            with self.assertRaisesRegex(fm.DownloadError, r"toy-part1==1\.0: ERROR: No matching distribution"):
                fm.pip_download("toy-part1", "1.0", Path("/tmp/dest"))


class Manifest(unittest.TestCase):
    def setUp(self):
        self.text = MANIFEST.read_text()
        self.manifest = tomllib.loads(self.text)
        self.models = fm.manifest_models(self.manifest)

    def test_has_no_urls_or_registry_hosts(self):
        self.assertNotIn("http", self.text.lower())
        self.assertNotIn("://", self.text)
        for host in ("pythonhosted", "pypi.org", "huggingface", "hf.co", "github"):
            self.assertNotIn(host, self.text.lower())

    def test_the_app_ships_the_default_group_and_the_extras_are_test_and_bench(self):
        self.assertEqual([(m["name"], m["role"], m["group"]) for m in self.manifest["model"]], [
            ("SmolLM2-135M-Instruct", "chat", "default"),
            ("Qwen2.5-Coder-1.5B-Instruct", "strong_chat", "default"),
            ("all-MiniLM-L6-v2", "embedding", "default"),
        ])
        for model in self.manifest["model"]:  # what the app's About screen reads
            for key in ("name", "role", "licence"):
                self.assertIn(key, model)
            # Where it comes from: one wheel, or parts joined.
            self.assertTrue(("package" in model and "version" in model) or "parts" in model)
        self.assertEqual({m["name"]: m["group"] for m in self.manifest["extra"]}, {
            "Qwen2.5-Coder-0.5B-Instruct": "test",
            "Gemma-3-270M": "test",
        })

    def test_every_model_is_pinned_by_hash(self):
        hex64 = re.compile(r"^[0-9a-f]{64}$")
        for model in self.models:
            with self.subTest(model["name"]):
                self.assertTrue(model["licence"])
                self.assertIn(model["group"], fm.GROUPS)
                if "joined" in model:
                    self.assertRegex(model["joined"]["sha256"], hex64)
                    self.assertGreater(model["joined"]["bytes"], 0)
                    members = [PurePosixPath(p["member"]).name for p in model["parts"]]
                    self.assertEqual(members, sorted(members), "parts are listed in name order")
                    for part in model["parts"]:
                        self.assertRegex(part["wheel_sha256"], hex64)
                        self.assertTrue(part["package"] and part["version"])
                        self.assertTrue(part["member"].startswith(part["package"].replace("-", "_") + "/data/"))
                else:
                    self.assertRegex(model["wheel_sha256"], hex64)
                    for entry in model["files"]:
                        self.assertRegex(entry["sha256"], hex64)

    def test_a_library_is_fetched_only_for_the_platform_it_is_built_for(self):
        libraries = self.manifest["library"]
        self.assertEqual({lib["name"] for lib in libraries}, {"pdfium"})
        platforms = [lib["platform"] for lib in libraries]
        self.assertEqual(len(platforms), len(set(platforms)), "one entry per platform")
        self.assertIn("linux-x86_64", platforms)
        chosen = [m for m in self.models if m["name"] == "pdfium"]
        self.assertLessEqual(len(chosen), 1)
        if chosen:
            self.assertEqual(chosen[0]["platform"], fm.this_platform())
        with mock.patch.object(fm, "this_platform", return_value="plan9-mips"):
            self.assertFalse([m for m in fm.manifest_models(self.manifest) if m["name"] == "pdfium"])
        with mock.patch.object(fm, "this_platform", return_value="windows-x86_64"):
            (dll,) = [m for m in fm.manifest_models(self.manifest) if m["name"] == "pdfium"]
            self.assertEqual([f["path"] for f in dll["files"]], ["pdfium.dll"])


if __name__ == "__main__":
    unittest.main()
