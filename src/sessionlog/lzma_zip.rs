//! Why this file exists: `SESSION_LOG_ZIP_COMPRESSION=lzma` (the reference's default) must
//! give archives whose members really are LZMA (zip method 14), as the reference's
//! `pyzipper` writes them, but the zip crate can read LZMA and not write it. So this file
//! writes those archives itself: the members LZMA-compressed (with the end marker, zip
//! flag bit 1), each encrypted as WinZip AE-2 with AES-256 (PBKDF2-HMAC-SHA1, 1000
//! rounds, a random 16-byte salt; AES-CTR with a little-endian counter from 1;
//! HMAC-SHA1 over the ciphertext, 10 bytes), in a plain zip container (local headers,
//! central directory, end record; no zip64: an archive is capped far below 4 GiB).

use std::io::Write;

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::Aes256;
use hmac::{Mac, SimpleHmac};
use lzma_rust2::{LzmaOptions, LzmaWriter};
use sha1::Sha1;

/// One member: its name and its uncompressed bytes.
pub struct Member<'a> {
    /// File name inside the archive (ASCII).
    pub name: &'a str,
    /// The member's contents.
    pub data: &'a [u8],
}

/// Why an archive could not be built.
#[derive(Debug)]
pub struct BuildError(String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BuildError {}

const METHOD_AES: u16 = 99;
const METHOD_LZMA: u16 = 14;
/// Version 6.3: what LZMA members need.
const VERSION_NEEDED: u16 = 63;
/// Made on Unix (so the permissions below are read), spec version 6.3.
const VERSION_MADE_BY: u16 = (3 << 8) | 63;
/// Encrypted, and the LZMA stream ends with its end marker.
const FLAGS: u16 = 0x0001 | 0x0002;
const SALT_LEN: usize = 16;
const KEY_LEN: usize = 32;
const AUTH_LEN: usize = 10;
const ROUNDS: u32 = 1000;
/// `-rw-------`: archives hold a user's logs.
const UNIX_MODE: u32 = 0o100600;
/// The LZMA SDK version written before the properties (informational).
const LZMA_SDK_VERSION: [u8; 2] = [9, 20];

/// Builds the archive: each member LZMA-compressed at `preset` (0–9), then encrypted
/// with `password`; `dos_time` is the members' (time, date) in MS-DOS form.
pub fn build(
    members: &[Member<'_>],
    password: &str,
    preset: u32,
    dos_time: (u16, u16),
) -> Result<Vec<u8>, BuildError> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for member in members {
        let offset = u32::try_from(out.len()).map_err(|_| too_large())?;
        let compressed = lzma(member.data, preset)?;
        let sealed = encrypt(&compressed, password)?;
        let entry = Entry {
            name: member.name.as_bytes(),
            compressed: u32::try_from(sealed.len()).map_err(|_| too_large())?,
            uncompressed: u32::try_from(member.data.len()).map_err(|_| too_large())?,
            dos_time,
        };
        entry.local_header(&mut out);
        out.extend_from_slice(&sealed);
        entry.central_header(offset, &mut central);
    }
    let directory_at = u32::try_from(out.len()).map_err(|_| too_large())?;
    let directory_len = u32::try_from(central.len()).map_err(|_| too_large())?;
    let count = u16::try_from(members.len()).map_err(|_| too_large())?;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // this disk, the directory's disk
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&directory_len.to_le_bytes());
    out.extend_from_slice(&directory_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // no comment
    Ok(out)
}

fn too_large() -> BuildError {
    BuildError("the archive is too large for a zip without zip64".into())
}

struct Entry<'a> {
    name: &'a [u8],
    compressed: u32,
    uncompressed: u32,
    dos_time: (u16, u16),
}

impl Entry<'_> {
    /// Fields shared by both headers, from "version needed" to the extra field's length.
    fn common(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
        out.extend_from_slice(&FLAGS.to_le_bytes());
        out.extend_from_slice(&METHOD_AES.to_le_bytes());
        out.extend_from_slice(&self.dos_time.0.to_le_bytes());
        out.extend_from_slice(&self.dos_time.1.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // AE-2: no CRC, the HMAC checks
        out.extend_from_slice(&self.compressed.to_le_bytes());
        out.extend_from_slice(&self.uncompressed.to_le_bytes());
        out.extend_from_slice(&(self.name.len() as u16).to_le_bytes());
        out.extend_from_slice(&(AES_EXTRA.len() as u16).to_le_bytes());
    }

    fn local_header(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        self.common(out);
        out.extend_from_slice(self.name);
        out.extend_from_slice(&AES_EXTRA);
    }

    fn central_header(&self, offset: u32, out: &mut Vec<u8>) {
        out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        out.extend_from_slice(&VERSION_MADE_BY.to_le_bytes());
        self.common(out);
        out.extend_from_slice(&0u16.to_le_bytes()); // comment length
        out.extend_from_slice(&0u16.to_le_bytes()); // disk
        out.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        out.extend_from_slice(&(UNIX_MODE << 16).to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(self.name);
        out.extend_from_slice(&AES_EXTRA);
    }
}

/// The WinZip AES extra field: id 0x9901, 7 bytes: AE-2, "AE", AES-256, then the
/// member's real method (LZMA).
const AES_EXTRA: [u8; 11] = [0x01, 0x99, 7, 0, 2, 0, b'A', b'E', 3, METHOD_LZMA as u8, 0];

/// The zip LZMA form: SDK version, properties length (5), properties (the lc/lp/pb byte
/// and the dictionary size), then the raw stream with its end marker.
fn lzma(data: &[u8], preset: u32) -> Result<Vec<u8>, BuildError> {
    let mut options = LzmaOptions::with_preset(preset.min(9));
    // The encoder allocates about 11 times its dictionary: no larger than the member
    // needs (a request's logs are rarely over a few MB), at least 64 KiB.
    let needed = (data.len() as u64)
        .next_power_of_two()
        .clamp(1 << 16, 1 << 23) as u32;
    options.dict_size = options.dict_size.min(needed);
    let mut out = Vec::with_capacity(data.len() / 4 + 64);
    out.extend_from_slice(&LZMA_SDK_VERSION);
    out.extend_from_slice(&5u16.to_le_bytes());
    let fail = |e: std::io::Error| BuildError(format!("LZMA compression failed: {e}"));
    let mut writer = LzmaWriter::new_no_header(Vec::new(), &options, true).map_err(fail)?;
    out.push(writer.props());
    out.extend_from_slice(&options.dict_size.to_le_bytes());
    writer.write_all(data).map_err(fail)?;
    out.extend_from_slice(&writer.finish().map_err(fail)?);
    Ok(out)
}

/// Salt, password check, AES-256-CTR ciphertext, and the 10-byte HMAC-SHA1 of it.
fn encrypt(plain: &[u8], password: &str) -> Result<Vec<u8>, BuildError> {
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(|e| BuildError(format!("no random salt: {e}")))?;
    seal(plain, password, &salt)
}

fn seal(plain: &[u8], password: &str, salt: &[u8; SALT_LEN]) -> Result<Vec<u8>, BuildError> {
    let mut keys = [0u8; 2 * KEY_LEN + 2];
    pbkdf2::pbkdf2::<SimpleHmac<Sha1>>(password.as_bytes(), salt, ROUNDS, &mut keys)
        .map_err(|_| BuildError("the password cannot be used".into()))?;
    let (cipher_key, rest) = keys.split_at(KEY_LEN);
    let (mac_key, check) = rest.split_at(KEY_LEN);
    let cipher =
        Aes256::new_from_slice(cipher_key).map_err(|_| BuildError("bad AES key length".into()))?;
    let mut out = Vec::with_capacity(SALT_LEN + 2 + plain.len() + AUTH_LEN);
    out.extend_from_slice(salt);
    out.extend_from_slice(check);
    let start = out.len();
    out.extend_from_slice(plain);
    for (index, chunk) in out[start..].chunks_mut(16).enumerate() {
        let mut block = aes::Block::default();
        block.copy_from_slice(&(index as u128 + 1).to_le_bytes());
        cipher.encrypt_block(&mut block);
        for (byte, key) in chunk.iter_mut().zip(block.iter()) {
            *byte ^= key;
        }
    }
    let mut mac = SimpleHmac::<Sha1>::new_from_slice(mac_key)
        .map_err(|_| BuildError("bad HMAC key".into()))?;
    mac.update(&out[start..]);
    let tag = mac.finalize().into_bytes();
    out.extend_from_slice(&tag[..AUTH_LEN]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Read};

    fn read(bytes: &[u8], name: &str, password: &str) -> zip::result::ZipResult<Vec<u8>> {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes))?;
        let mut file = zip.by_name_decrypt(name, password.as_bytes())?;
        assert_eq!(file.compression(), zip::CompressionMethod::Lzma);
        let mut out = Vec::new();
        file.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn members_are_lzma_inside_aes_and_read_back_with_the_password_only() {
        let logs = "a log line that repeats\n".repeat(500);
        let members = [
            Member {
                name: "meta.json",
                data: b"{\"a\": 1}",
            },
            Member {
                name: "logs.jsonl",
                data: logs.as_bytes(),
            },
            Member {
                name: "empty.txt",
                data: b"",
            },
        ];
        let bytes = build(&members, "pw-123", 6, (0, 0x5C21)).unwrap();
        assert_eq!(read(&bytes, "meta.json", "pw-123").unwrap(), b"{\"a\": 1}");
        assert_eq!(
            read(&bytes, "logs.jsonl", "pw-123").unwrap(),
            logs.as_bytes()
        );
        assert_eq!(read(&bytes, "empty.txt", "pw-123").unwrap(), b"");
        assert!(read(&bytes, "logs.jsonl", "wrong").is_err());
        assert!(bytes.len() < logs.len() / 4, "compressed: {}", bytes.len());
        assert!(
            !bytes.windows(8).any(|w| w == b"log line"),
            "stored in clear"
        );
    }

    #[test]
    fn the_keystream_starts_at_counter_one_and_the_salt_is_fresh() {
        let salt = [7u8; SALT_LEN];
        let a = seal(b"same text", "pw", &salt).unwrap();
        let b = seal(b"same text", "pw", &salt).unwrap();
        assert_eq!(a, b, "deterministic for one salt");
        assert_eq!(a.len(), SALT_LEN + 2 + 9 + AUTH_LEN);
        let one = encrypt(b"same text", "pw").unwrap();
        let two = encrypt(b"same text", "pw").unwrap();
        assert_ne!(one[..SALT_LEN], two[..SALT_LEN]);
    }
}
