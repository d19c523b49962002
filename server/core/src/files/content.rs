//! What an uploaded file's bytes are: text Kiln can index, or binary it cannot.

/// How much of a file is inspected for NUL bytes.
const SNIFF_BYTES: usize = 8192;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Text, as UTF-8; `note` says how it was decoded when it was not UTF-8 already.
    Text { text: String, note: Option<String> },
    /// Not text (a NUL byte early on, as executables, images and archives have).
    Binary,
}

/// Classifies and decodes `bytes`: UTF-8 as is (a byte-order mark kept — the stored
/// text is the uploaded text); UTF-16 with a byte-order mark transcoded; other bytes
/// with a NUL in the first 8 KiB are binary; anything else that is not valid UTF-8 is
/// read as Latin-1 (every byte a character), with a note saying so.
pub fn sniff(bytes: &[u8]) -> Content {
    if let Some(text) = utf16(bytes) {
        return text;
    }
    if bytes[..bytes.len().min(SNIFF_BYTES)].contains(&0) {
        return Content::Binary;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Content::Text {
            text: text.to_owned(),
            note: None,
        },
        Err(_) => Content::Text {
            text: bytes.iter().map(|&b| char::from(b)).collect(),
            note: Some("not valid UTF-8: read as Latin-1".into()),
        },
    }
}

fn utf16(bytes: &[u8]) -> Option<Content> {
    let (little_endian, label) = match bytes {
        [0xFF, 0xFE, ..] => (true, "UTF-16LE"),
        [0xFE, 0xFF, ..] => (false, "UTF-16BE"),
        _ => return None,
    };
    let units = bytes[2..]
        .chunks(2)
        .map(|pair| match (pair, little_endian) {
            ([low, high], true) => u16::from_le_bytes([*low, *high]),
            ([high, low], false) => u16::from_be_bytes([*high, *low]),
            // An odd trailing byte cannot be a UTF-16 unit.
            _ => 0xFFFD,
        });
    let text: String = char::decode_utf16(units)
        .map(|unit| unit.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    Some(Content::Text {
        text,
        note: Some(format!("transcoded from {label}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_text_as_uploaded() {
        assert_eq!(
            sniff("fn main() { \"é\" }\n".as_bytes()),
            Content::Text {
                text: "fn main() { \"é\" }\n".into(),
                note: None
            }
        );
    }

    #[test]
    fn nul_bytes_mean_binary() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png), Content::Binary);
    }

    #[test]
    fn utf16_with_a_byte_order_mark_is_transcoded() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend("x = 1\n".encode_utf16().flat_map(u16::to_le_bytes));
        let Content::Text { text, note } = sniff(&bytes) else {
            panic!("binary")
        };
        assert_eq!(text, "x = 1\n");
        assert_eq!(note.as_deref(), Some("transcoded from UTF-16LE"));
    }

    #[test]
    fn other_bytes_are_read_as_latin1_with_a_note() {
        let Content::Text { text, note } = sniff(b"caf\xe9\n") else {
            panic!("binary")
        };
        assert_eq!(text, "café\n");
        assert!(note.unwrap().contains("Latin-1"));
    }
}
