//! Reading archive members without trusting what the archive says about their size.

use std::io::{Cursor, Read};

use zip::ZipArchive;
use zip::result::ZipError;

use crate::error::ParseError;

/// An archive whose members are read against one shared budget of uncompressed bytes, so a zip bomb
/// fails with [`ParseError::ArchiveTooLarge`] instead of filling memory.
pub(crate) struct BoundedZip<'a> {
    archive: ZipArchive<Cursor<&'a [u8]>>,
    remaining: u64,
    limit: u64,
}

/// Bytes that begin an OLE compound file: how Office stores a password-protected DOCX.
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

impl<'a> BoundedZip<'a> {
    pub(crate) fn open(
        bytes: &'a [u8],
        expected: &'static str,
        limit: u64,
    ) -> Result<Self, ParseError> {
        if bytes.starts_with(OLE_MAGIC) {
            return Err(ParseError::Encrypted);
        }
        if !bytes.starts_with(b"PK") {
            return Err(ParseError::WrongFormat {
                expected,
                detail: "it is not a ZIP container".into(),
            });
        }
        let archive = ZipArchive::new(Cursor::new(bytes)).map_err(zip_error)?;
        Ok(BoundedZip {
            archive,
            remaining: limit,
            limit,
        })
    }

    /// Reads one member as UTF-8 text; `None` when the archive has no such member.
    pub(crate) fn read_text(&mut self, name: &str) -> Result<Option<String>, ParseError> {
        let mut file = match self.archive.by_name(name) {
            Ok(file) => file,
            Err(ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(zip_error(e)),
        };
        if file.encrypted() {
            return Err(ParseError::Encrypted);
        }
        if file.size() > self.remaining {
            return Err(ParseError::ArchiveTooLarge { limit: self.limit });
        }
        let mut buf = Vec::new();
        // Read one byte past the budget: reaching it proves the declared size was a lie.
        let read = (&mut file)
            .take(self.remaining + 1)
            .read_to_end(&mut buf)
            .map_err(|e| ParseError::Corrupt(e.to_string()))?;
        if read as u64 > self.remaining {
            return Err(ParseError::ArchiveTooLarge { limit: self.limit });
        }
        self.remaining -= read as u64;
        String::from_utf8(buf)
            .map(Some)
            .map_err(|_| ParseError::Corrupt(format!("'{name}' is not valid UTF-8")))
    }
}

fn zip_error(e: ZipError) -> ParseError {
    match e {
        ZipError::UnsupportedArchive(msg) if msg.to_ascii_lowercase().contains("password") => {
            ParseError::Encrypted
        }
        ZipError::Io(io) => ParseError::Corrupt(io.to_string()),
        other => ParseError::Corrupt(other.to_string()),
    }
}
