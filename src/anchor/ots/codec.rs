//! The `.ots` byte format.
//!
//! Parsing treats every byte as hostile: lengths are checked against the
//! limits before anything is allocated, nesting is bounded, and the only
//! recursion is one level per operation, so it cannot exhaust the stack.

use super::{
    check_uri, Attestation, DetachedTimestamp, HashOp, Op, OtsError, Timestamp, BITCOIN_TAG, LITECOIN_TAG, MAX_DEPTH,
    MAX_MSG_LEN, MAX_OP_ARG_LEN, MAX_PAYLOAD_LEN, MAX_PROOF_LEN, MAX_URI_LEN, PENDING_TAG,
};

/// Chosen so that a hexdump says what the file is while `file` calls it data.
pub const MAGIC: &[u8; 31] = b"\x00OpenTimestamps\x00\x00Proof\x00\xbf\x89\xe2\xe8\x84\xe8\x92\x94";
pub const MAJOR_VERSION: u8 = 1;

const FORK: u8 = 0xff;
const ATTESTATION: u8 = 0x00;

/// Parses a detached timestamp (the contents of a `.ots` file).
///
/// Accepts branches in any order and folds duplicates together, as
/// python-opentimestamps does; [`serialize`] then writes the canonical form,
/// so `serialize(parse(x)) == x` exactly when `x` is canonical, which every
/// proof written by the reference tools is.
pub fn parse(bytes: &[u8]) -> Result<DetachedTimestamp, OtsError> {
    if bytes.len() > MAX_PROOF_LEN {
        return Err(OtsError::TooLarge { len: bytes.len(), max: MAX_PROOF_LEN });
    }
    let mut r = Reader::new(bytes, 0);
    if r.take(MAGIC.len()).ok() != Some(&MAGIC[..]) {
        return Err(OtsError::BadMagic);
    }
    // One byte, not a varuint: python-opentimestamps writes and reads the
    // major version with write_uint8/read_uint8.
    let version = r.byte()?;
    if version != MAJOR_VERSION {
        return Err(OtsError::UnsupportedVersion(version));
    }
    let offset = r.offset();
    let tag = r.byte()?;
    let file_hash_op = HashOp::from_tag(tag).ok_or(OtsError::UnknownFileHashOp { offset, tag })?;
    let file_digest = r.take(file_hash_op.digest_len())?.to_vec();
    let timestamp = r.timestamp(file_digest.len(), 0)?;
    r.finish("proof")?;
    Ok(DetachedTimestamp { file_hash_op, file_digest, timestamp })
}

/// Parses a bare timestamp for `msg`, with no header: the body of a
/// calendar's reply.
pub fn parse_timestamp(bytes: &[u8], msg: &[u8]) -> Result<Timestamp, OtsError> {
    if bytes.len() > MAX_PROOF_LEN {
        return Err(OtsError::TooLarge { len: bytes.len(), max: MAX_PROOF_LEN });
    }
    if msg.len() > MAX_MSG_LEN {
        return Err(OtsError::BadLength {
            offset: 0,
            what: "starting message",
            len: msg.len() as u64,
            min: 0,
            max: MAX_MSG_LEN,
        });
    }
    let mut r = Reader::new(bytes, 0);
    let timestamp = r.timestamp(msg.len(), 0)?;
    r.finish("timestamp")?;
    Ok(timestamp)
}

/// Writes a detached timestamp in canonical form.
///
/// The output parses back only if the proof is valid (see
/// [`DetachedTimestamp::validate`]); every parsed or built proof is.
pub fn serialize(proof: &DetachedTimestamp) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(MAGIC);
    out.push(MAJOR_VERSION);
    out.push(proof.file_hash_op.tag());
    out.extend_from_slice(&proof.file_digest);
    out.extend_from_slice(&serialize_timestamp(&proof.timestamp));
    out
}

/// Writes a bare timestamp in canonical form (the body of a calendar reply).
pub fn serialize_timestamp(timestamp: &Timestamp) -> Vec<u8> {
    // Clone so that hand-built trees (public fields) come out canonical too.
    let mut canonical = timestamp.clone();
    canonical.canonicalize();
    let mut out = Vec::new();
    write_node(&mut out, &canonical);
    out
}

/// Attestations first, then operations, each branch but the last preceded by
/// a fork marker: the layout python-opentimestamps writes.
fn write_node(out: &mut Vec<u8>, node: &Timestamp) {
    let mut remaining = node.attestations.len() + node.ops.len();
    for attestation in &node.attestations {
        remaining -= 1;
        if remaining > 0 {
            out.push(FORK);
        }
        out.push(ATTESTATION);
        write_attestation(out, attestation);
    }
    for (op, child) in &node.ops {
        remaining -= 1;
        if remaining > 0 {
            out.push(FORK);
        }
        out.push(op.tag());
        if let Some(arg) = op.arg() {
            write_varbytes(out, arg);
        }
        write_node(out, child);
    }
}

fn write_attestation(out: &mut Vec<u8>, attestation: &Attestation) {
    out.extend_from_slice(&attestation.tag());
    let mut payload = Vec::new();
    match attestation {
        Attestation::Pending { uri } => write_varbytes(&mut payload, uri.as_bytes()),
        Attestation::Bitcoin { height } | Attestation::Litecoin { height } => write_varuint(&mut payload, *height),
        Attestation::Unknown { payload: raw, .. } => payload.extend_from_slice(raw),
    }
    write_varbytes(out, &payload);
}

fn write_varuint(out: &mut Vec<u8>, mut n: u64) {
    while n > 0x7f {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn write_varbytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_varuint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A cursor that reports positions as offsets into the whole proof, also
/// when it reads an attestation's payload on its own.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    fn offset(&self) -> usize {
        self.base + self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], OtsError> {
        let available = self.buf.len() - self.pos;
        if n > available {
            return Err(OtsError::Truncated { offset: self.offset(), needed: n - available });
        }
        let bytes = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    fn byte(&mut self) -> Result<u8, OtsError> {
        Ok(self.take(1)?[0])
    }

    /// LEB128, as the reference reads it, but refusing values past u64 and
    /// non-minimal encodings: the latter would let one proof have several
    /// byte forms and break the exact round trip.
    fn varuint(&mut self) -> Result<u64, OtsError> {
        let offset = self.offset();
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            let byte = self.byte()?;
            let bits = u64::from(byte & 0x7f);
            if shift >= 64 || (shift > 0 && bits >> (64 - shift) != 0) {
                return Err(OtsError::BadVarint { offset, reason: "larger than 64 bits" });
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                if byte == 0 && shift > 0 {
                    return Err(OtsError::BadVarint { offset, reason: "not minimally encoded" });
                }
                return Ok(value);
            }
            shift += 7;
        }
    }

    fn varbytes(&mut self, what: &'static str, min: usize, max: usize) -> Result<&'a [u8], OtsError> {
        let offset = self.offset();
        let len = self.varuint()?;
        if len < min as u64 || len > max as u64 {
            return Err(OtsError::BadLength { offset, what, len, min, max });
        }
        self.take(len as usize)
    }

    fn finish(&self, what: &'static str) -> Result<(), OtsError> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(OtsError::TrailingData { offset: self.offset(), what })
        }
    }

    /// A node whose message is `msg_len` bytes long, `depth` levels below the
    /// root. Only lengths are tracked: they are all the limits depend on, and
    /// skipping the hashing keeps parsing linear in the input.
    fn timestamp(&mut self, msg_len: usize, depth: usize) -> Result<Timestamp, OtsError> {
        if depth >= MAX_DEPTH {
            return Err(OtsError::TooDeep { offset: self.offset(), max: MAX_DEPTH });
        }
        let mut node = Timestamp::default();
        loop {
            let mut tag = self.byte()?;
            let forked = tag == FORK;
            if forked {
                // A fork marker announces one more branch at this same node;
                // a second marker in a row is not an operation and is refused
                // below, which is what stops a run of 0xff from nesting.
                tag = self.byte()?;
            }
            if tag == ATTESTATION {
                node.attestations.push(self.attestation()?);
            } else {
                let offset = self.offset() - 1;
                let op = self.op(tag, offset)?;
                let child_len = op.result_len(msg_len).map_err(|reason| OtsError::OpNotApplicable {
                    offset,
                    op: op.to_string(),
                    reason,
                })?;
                let child = self.timestamp(child_len, depth + 1)?;
                node.ops.push((op, child));
            }
            if !forked {
                break;
            }
        }
        // Children are canonical already; this folds any duplicate branches.
        node.normalize_level();
        Ok(node)
    }

    fn op(&mut self, tag: u8, offset: usize) -> Result<Op, OtsError> {
        Ok(match tag {
            0xf0 => Op::Append(self.varbytes("append argument", 1, MAX_OP_ARG_LEN)?.to_vec()),
            0xf1 => Op::Prepend(self.varbytes("prepend argument", 1, MAX_OP_ARG_LEN)?.to_vec()),
            0x08 => Op::Sha256,
            0x02 => Op::Sha1,
            0x03 => Op::Ripemd160,
            0x67 => Op::Keccak256,
            0xf2 => Op::Reverse,
            0xf3 => Op::Hexlify,
            _ => return Err(OtsError::UnknownOp { offset, tag }),
        })
    }

    fn attestation(&mut self) -> Result<Attestation, OtsError> {
        let tag: [u8; 8] = self.take(8)?.try_into().expect("took 8 bytes");
        let payload = self.varbytes("attestation payload", 0, MAX_PAYLOAD_LEN)?;
        let mut p = Reader::new(payload, self.offset() - payload.len());
        // Known kinds must use their whole payload, as in the reference:
        // extra fields have to be introduced explicitly, under a new tag.
        let attestation = match tag {
            PENDING_TAG => {
                let uri = p.varbytes("calendar URI", 0, MAX_URI_LEN)?;
                check_uri(uri).map_err(|reason| OtsError::InvalidUri {
                    uri: String::from_utf8_lossy(uri).into_owned(),
                    reason,
                })?;
                // check_uri admits only ASCII, so this cannot fail.
                Attestation::Pending { uri: String::from_utf8_lossy(uri).into_owned() }
            }
            BITCOIN_TAG => Attestation::Bitcoin { height: p.varuint()? },
            LITECOIN_TAG => Attestation::Litecoin { height: p.varuint()? },
            _ => return Ok(Attestation::Unknown { tag, payload: payload.to_vec() }),
        };
        p.finish("attestation payload")?;
        Ok(attestation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varuint_round_trips_and_is_minimal() {
        for n in [0u64, 1, 0x7f, 0x80, 300, 358391, u32::MAX as u64, u64::MAX - 1, u64::MAX] {
            let mut out = Vec::new();
            write_varuint(&mut out, n);
            let mut r = Reader::new(&out, 0);
            assert_eq!(r.varuint().unwrap(), n);
            r.finish("test").unwrap();
        }
        let mut out = Vec::new();
        write_varuint(&mut out, 358391);
        assert_eq!(out, [0xf7, 0xef, 0x15]);
    }

    #[test]
    fn varuint_rejects_overflow_and_padding() {
        let too_big = [0xff; 10].iter().copied().chain([0x01]).collect::<Vec<_>>();
        assert!(matches!(Reader::new(&too_big, 0).varuint(), Err(OtsError::BadVarint { .. })));
        // u64::MAX takes ten bytes, the last being 0x01; 0x02 there overflows.
        let mut max = [0xffu8; 10];
        max[9] = 0x01;
        assert_eq!(Reader::new(&max, 0).varuint().unwrap(), u64::MAX);
        max[9] = 0x02;
        assert!(Reader::new(&max, 0).varuint().is_err());
        assert!(matches!(
            Reader::new(&[0x81, 0x00], 0).varuint(),
            Err(OtsError::BadVarint { reason: "not minimally encoded", .. })
        ));
        assert!(matches!(Reader::new(&[0x80], 0).varuint(), Err(OtsError::Truncated { .. })));
    }

    #[test]
    fn huge_declared_lengths_fail_before_allocating() {
        let mut bytes = vec![0xf0];
        write_varuint(&mut bytes, u64::MAX);
        let err = parse_timestamp(&bytes, &[0; 32]).unwrap_err();
        assert!(matches!(err, OtsError::BadLength { what: "append argument", .. }), "{err}");
    }

    #[test]
    fn unknown_attestation_is_kept_byte_for_byte() {
        // An attestation's payload need not be a varbytes, so write it raw.
        let mut bytes = vec![ATTESTATION];
        bytes.extend_from_slice(b"\x30\xfe\x80\x87\xb5\xc7\xea\xd7");
        write_varbytes(&mut bytes, &[0x81, 0x00, 0xde, 0xad]);
        let stamp = parse_timestamp(&bytes, &[1; 32]).unwrap();
        assert_eq!(
            stamp.attestations,
            [Attestation::Unknown { tag: *b"\x30\xfe\x80\x87\xb5\xc7\xea\xd7", payload: vec![0x81, 0x00, 0xde, 0xad] }]
        );
        assert_eq!(serialize_timestamp(&stamp), bytes);
    }

    #[test]
    fn known_attestations_must_use_their_whole_payload() {
        let mut bytes = vec![ATTESTATION];
        bytes.extend_from_slice(&BITCOIN_TAG);
        write_varbytes(&mut bytes, &[0x01, 0x00]);
        let err = parse_timestamp(&bytes, &[0; 32]).unwrap_err();
        assert!(matches!(err, OtsError::TrailingData { what: "attestation payload", .. }), "{err}");
    }

    #[test]
    fn pending_uri_charset_is_enforced() {
        let mut bytes = vec![ATTESTATION];
        bytes.extend_from_slice(&PENDING_TAG);
        let mut payload = Vec::new();
        write_varbytes(&mut payload, b"https://user@evil.example/?q");
        write_varbytes(&mut bytes, &payload);
        let err = parse_timestamp(&bytes, &[0; 32]).unwrap_err();
        assert!(err.to_string().contains("'@' is not allowed"), "{err}");
        assert!(Attestation::pending("https://a.example/x?y").is_err());
        assert!(Attestation::pending("https://alice.btc.calendar.opentimestamps.org").is_ok());
    }

    #[test]
    fn op_limits_follow_the_reference() {
        // 4095 bytes appended to a 32-byte message would exceed 4096.
        let mut bytes = vec![0xf0];
        write_varbytes(&mut bytes, &[7; 4090]);
        bytes.extend_from_slice(&[ATTESTATION]);
        bytes.extend_from_slice(&BITCOIN_TAG);
        write_varbytes(&mut bytes, &[1]);
        let err = parse_timestamp(&bytes, &[0; 32]).unwrap_err();
        assert!(matches!(err, OtsError::OpNotApplicable { offset: 0, .. }), "{err}");
        assert!(parse_timestamp(&bytes, &[0; 6]).is_ok());
        // Hexlify doubles its input, so it takes at most 2048 bytes.
        let hexlify = [&[0xf3][..], &bytes[bytes.len() - 11..]].concat();
        assert!(parse_timestamp(&hexlify, &[0; 2048]).is_ok());
        assert!(parse_timestamp(&hexlify, &[0; 2049]).is_err());
        assert!(parse_timestamp(&hexlify, &[]).is_err());
        // Empty append arguments are refused too.
        assert!(parse_timestamp(&[0xf0, 0x00, 0x08, 0x00], &[0; 32]).is_err());
    }

    #[test]
    fn empty_input_and_empty_nodes_are_errors() {
        assert!(matches!(parse(&[]), Err(OtsError::BadMagic)));
        assert!(matches!(parse(&MAGIC[..10]), Err(OtsError::BadMagic)));
        assert!(matches!(parse_timestamp(&[], &[0; 32]), Err(OtsError::Truncated { offset: 0, needed: 1 })));
        assert!(serialize_timestamp(&Timestamp::default()).is_empty());
    }
}
