//! Finding Tesseract, which reads scanned PDF pages (`ingest.ocr`).

use std::path::{Path, PathBuf};

use cairn_ingest::Tesseract;

use crate::library::Library;

/// Where Tesseract is installed when it is not on `PATH`: Homebrew on Apple silicon and Intel
/// Macs, and the UB Mannheim installer's default folder on Windows.
const WELL_KNOWN: &[&str] = &[
    "/opt/homebrew/bin/tesseract",
    "/usr/local/bin/tesseract",
    "/usr/bin/tesseract",
    r"C:\Program Files\Tesseract-OCR\tesseract.exe",
];

impl Library {
    /// The Tesseract scanned PDF pages are read with: `ingest.tesseract`, else `tesseract` on
    /// `PATH` or in a well-known folder. `None` when `ingest.ocr` is off or none is found; scanned
    /// pages are then indexed without text and their documents say why. The one found is set for
    /// this process and the parse workers it starts.
    pub fn ocr(&self) -> Option<Tesseract> {
        let ingest = &self.config().ingest;
        let found = if ingest.ocr {
            match &ingest.tesseract {
                Some(path) => Some(path.clone()).filter(|p| p.is_file()),
                None => find_on_path()
                    .or_else(|| WELL_KNOWN.iter().map(PathBuf::from).find(|p| p.is_file())),
            }
        } else {
            None
        };
        let tesseract = found.map(|program| Tesseract {
            program,
            languages: ingest.ocr_languages.clone(),
        });
        cairn_ingest::use_tesseract(tesseract.clone());
        tesseract
    }
}

fn find_on_path() -> Option<PathBuf> {
    let name = if cfg!(windows) {
        "tesseract.exe"
    } else {
        "tesseract"
    };
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}
