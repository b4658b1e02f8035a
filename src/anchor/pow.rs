//! Proof of work: whether a Bitcoin block header could be a real block at the
//! height it is offered for.
//!
//! A header source (a file, a node, an Esplora server) can make up a header
//! with any Merkle root and any time; what it cannot make up cheaply is the
//! work. So every header must hash below the target its `nBits` names, and
//! that target must be the one mainnet required at that height: read from
//! the checkpoint table compiled into vouch (`checkpoints/mainnet.bin`, one
//! record per 2016-block retarget period), or, above the table, one a legal
//! walk of retargets from the table's last period could reach. Where the
//! table names a block hash (the last block of each period) the header must
//! be that block.

use alloy::primitives::U256;

use super::ots::{block_hash, block_hash_hex, BlockHeader};

/// Blocks per retarget period.
pub const RETARGET_INTERVAL: u64 = 2016;

/// Per period: the hash of its last block (display order), then the
/// big-endian compact target of the next period. See `checkpoints/README.md`.
static MAINNET_CHECKPOINTS: &[u8] = include_bytes!("checkpoints/mainnet.bin");
const RECORD_LEN: usize = 36;

/// Mainnet's easiest target (`nBits` 0x1d00ffff), the target of period 0.
const MAINNET_POW_LIMIT_BITS: u32 = 0x1d00_ffff;
/// Regtest's only target: no retargets, (almost) every hash meets it.
const REGTEST_POW_LIMIT_BITS: u32 = 0x207f_ffff;

/// Which Bitcoin chain headers must belong to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum BitcoinNetwork {
    /// Bitcoin mainnet: targets checked against the compiled-in checkpoints.
    #[default]
    Mainnet,
    /// A local regtest chain (for testing calendars): the fixed regtest
    /// target; verdicts name the chain `bitcoin-regtest`.
    Regtest,
}

impl BitcoinNetwork {
    /// The chain name verdicts carry.
    pub fn chain_name(self) -> &'static str {
        match self {
            Self::Mainnet => "bitcoin",
            Self::Regtest => "bitcoin-regtest",
        }
    }
}

/// A header that passed [`check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Worked {
    /// Above the checkpoint table: the target was only checked to be
    /// reachable, and no block hash pins the chain there.
    pub beyond_checkpoints: bool,
}

/// The target a compact `nBits` names; `None` for negative, zero or
/// overflowing encodings (Bitcoin Core refuses those too).
pub fn compact_to_target(bits: u32) -> Option<U256> {
    let size = bits >> 24;
    let mantissa = bits & 0x007f_ffff;
    if mantissa == 0 || bits & 0x0080_0000 != 0 {
        return None;
    }
    if size <= 3 {
        return Some(U256::from(mantissa >> (8 * (3 - size)))).filter(|t| !t.is_zero());
    }
    let shift = 8 * (size as usize - 3);
    let target = U256::from(mantissa).checked_shl(shift)?;
    // checked_shl only catches shifts past 256 bits, not bits shifted out.
    (target >> shift == U256::from(mantissa)).then_some(target)
}

/// The compact form of `target`, truncating as Bitcoin Core's `GetCompact` does.
pub fn target_to_compact(target: U256) -> u32 {
    let mut size = target.bit_len().div_ceil(8) as u32;
    let mut mantissa: u32 = if size <= 3 {
        (target.to::<u64>() << (8 * (3 - size))) as u32
    } else {
        (target >> (8 * (size as usize - 3))).to::<u64>() as u32
    };
    if mantissa & 0x0080_0000 != 0 {
        mantissa >>= 8;
        size += 1;
    }
    mantissa | (size << 24)
}

fn period_count() -> u64 {
    (MAINNET_CHECKPOINTS.len() / RECORD_LEN) as u64
}

fn record(period: u64) -> Option<&'static [u8]> {
    let start = usize::try_from(period).ok()?.checked_mul(RECORD_LEN)?;
    MAINNET_CHECKPOINTS.get(start..start + RECORD_LEN)
}

/// The last height the checkpoint table covers.
pub fn last_checkpoint_height() -> u64 {
    period_count() * RETARGET_INTERVAL - 1
}

/// The hash (display order) the table names for `height`, if it names one.
fn checkpoint_hash(height: u64) -> Option<String> {
    if height % RETARGET_INTERVAL != RETARGET_INTERVAL - 1 {
        return None;
    }
    record(height / RETARGET_INTERVAL).map(|r| hex::encode(&r[..32]))
}

/// The exact target of `period`, when the table knows it (period 0 is the
/// pow limit; record `i` holds the target of period `i + 1`).
fn known_target_bits(period: u64) -> Option<u32> {
    match period {
        0 => Some(MAINNET_POW_LIMIT_BITS),
        p => record(p - 1).map(|r| u32::from_be_bytes(r[32..36].try_into().expect("4-byte range"))),
    }
}

/// The easiest and hardest targets `steps` retargets can reach from the
/// target `bits` names: each retarget at most 4x either way (the clamp on
/// the measured timespan), never easier than the pow limit, and each result
/// truncated to compact form as consensus does.
fn reachable(bits: u32, steps: u64) -> (U256, U256) {
    let limit = compact_to_target(MAINNET_POW_LIMIT_BITS).expect("the pow limit is a valid target");
    let start = compact_to_target(bits).expect("table targets are valid");
    let (mut hardest, mut easiest) = (start, start);
    // After a few hundred steps both bounds sit at fixed points (0 and the limit).
    for _ in 0..steps.min(300) {
        hardest = truncate(hardest >> 2);
        easiest = truncate(easiest.saturating_mul(U256::from(4)).min(limit));
    }
    (hardest, easiest)
}

fn truncate(target: U256) -> U256 {
    if target.is_zero() {
        return target;
    }
    compact_to_target(target_to_compact(target)).unwrap_or(U256::ZERO)
}

/// Whether `header` could be the real block at `height` on `network`; the
/// error says why not.
pub fn check(network: BitcoinNetwork, height: u64, header: &BlockHeader) -> Result<Worked, String> {
    let bits = u32::from_le_bytes(header[72..76].try_into().expect("4-byte range"));
    let Some(target) = compact_to_target(bits) else {
        return Err(format!("its nBits 0x{bits:08x} is not a valid target"));
    };
    // The target is judged before the work against it: a header that names
    // a target the chain never required at this height is refused for that,
    // whether or not it meets it.
    let period = height / RETARGET_INTERVAL;
    let beyond_checkpoints = match network {
        BitcoinNetwork::Regtest => {
            if bits != REGTEST_POW_LIMIT_BITS {
                return Err(format!("its nBits 0x{bits:08x} is not the regtest target 0x{REGTEST_POW_LIMIT_BITS:08x}"));
            }
            false
        }
        BitcoinNetwork::Mainnet => match known_target_bits(period) {
            Some(required) => {
                if compact_to_target(required) != Some(target) {
                    return Err(format!(
                        "its nBits 0x{bits:08x} is not the mainnet target of retarget period {period} (0x{required:08x})"
                    ));
                }
                false
            }
            None => {
                let last = period_count();
                let from = known_target_bits(last).expect("the table's last record names the next target");
                let (hardest, easiest) = reachable(from, period - last);
                if target < hardest || target > easiest {
                    return Err(format!(
                        "its nBits 0x{bits:08x} is out of reach of mainnet's difficulty {} retarget(s) after the checkpoints",
                        period - last
                    ));
                }
                true
            }
        },
    };
    let hash = block_hash(header);
    if U256::from_le_bytes(hash) > target {
        return Err(format!(
            "it has no proof of work: its hash {} is above its own target (nBits 0x{bits:08x})",
            block_hash_hex(header)
        ));
    }
    if network == BitcoinNetwork::Mainnet {
        if let Some(expected) = checkpoint_hash(height) {
            let actual = block_hash_hex(header);
            if actual != expected {
                return Err(format!("it is block {actual}, but the checkpoint at height {height} is block {expected}"));
            }
        }
    }
    Ok(Worked { beyond_checkpoints })
}

#[cfg(test)]
mod tests {
    use super::*;

    const H358391: &str = "02000000b96394585a281b7e5f438fd1c9ed492645a1fd61cb3802040000000000000000007ee445d23ad061af4a36b809501fab1ac4f2d7e7a739817dd0cbb7ec661b8a1e376755f58616186272def6";
    const GENESIS: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";

    fn header(hex_header: &str) -> BlockHeader {
        hex::decode(hex_header).unwrap().try_into().unwrap()
    }

    fn with_bits(mut header: BlockHeader, bits: u32) -> BlockHeader {
        header[72..76].copy_from_slice(&bits.to_le_bytes());
        header
    }

    /// Grinds the nonce until the header meets its own target (cheap for easy targets).
    fn mine(mut header: BlockHeader) -> BlockHeader {
        let bits = u32::from_le_bytes(header[72..76].try_into().unwrap());
        let target = compact_to_target(bits).unwrap();
        for nonce in 0u32.. {
            header[76..80].copy_from_slice(&nonce.to_le_bytes());
            if U256::from_le_bytes(block_hash(&header)) <= target {
                return header;
            }
        }
        unreachable!()
    }

    #[test]
    fn compact_round_trips_and_refuses_nonsense() {
        for bits in [0x1d00ffff, 0x181686f5, 0x207fffff, 0x170240c3, 0x03123456, 0x02008000] {
            assert_eq!(target_to_compact(compact_to_target(bits).unwrap()), bits, "{bits:08x}");
        }
        assert_eq!(compact_to_target(0x1d00ffff).unwrap(), U256::from(0xffffu64) << 208);
        assert_eq!(compact_to_target(0x04923456), None, "negative");
        assert_eq!(compact_to_target(0x1d000000), None, "zero");
        assert_eq!(compact_to_target(0xff123456), None, "overflow");
        assert_eq!(compact_to_target(0x22010000), None, "overflow by a byte");
    }

    #[test]
    fn the_table_covers_every_period_up_to_953567() {
        assert_eq!(last_checkpoint_height(), 953_567);
        assert_eq!(known_target_bits(358_391 / RETARGET_INTERVAL), Some(0x181686f5));
        assert_eq!(
            checkpoint_hash(2015).as_deref(),
            Some("00000000693067b0e6b440bc51450b9f3850561b07f6d3c021c54fbd6abb9763")
        );
        assert_eq!(checkpoint_hash(2016), None);
    }

    #[test]
    fn real_blocks_pass() {
        assert_eq!(check(BitcoinNetwork::Mainnet, 358_391, &header(H358391)), Ok(Worked { beyond_checkpoints: false }));
        assert!(check(BitcoinNetwork::Mainnet, 0, &header(GENESIS)).is_ok());
    }

    #[test]
    fn a_made_up_header_has_no_work() {
        let mut forged = header(H358391);
        forged[40] ^= 1;
        let err = check(BitcoinNetwork::Mainnet, 358_391, &forged).unwrap_err();
        assert!(err.contains("no proof of work"), "{err}");
    }

    #[test]
    fn work_against_an_easy_target_of_its_own_is_refused() {
        let easy = mine(with_bits(header(H358391), 0x207fffff));
        let err = check(BitcoinNetwork::Mainnet, 358_391, &easy).unwrap_err();
        assert!(err.contains("not the mainnet target of retarget period 177 (0x181686f5)"), "{err}");
        // The same header is fine on regtest, and a mainnet header is not.
        assert!(check(BitcoinNetwork::Regtest, 358_391, &easy).is_ok());
        assert!(check(BitcoinNetwork::Regtest, 358_391, &header(H358391)).unwrap_err().contains("regtest target"));
    }

    #[test]
    fn a_checkpoint_height_must_hold_the_checkpoint_block() {
        // A real block of period 177 offered for its last height, 358847.
        let err = check(BitcoinNetwork::Mainnet, 358_847, &header(H358391)).unwrap_err();
        assert!(err.contains("checkpoint at height 358847"), "{err}");
    }

    #[test]
    fn beyond_the_table_only_reachable_targets_pass() {
        let last = known_target_bits(period_count()).unwrap();
        let first_beyond = (period_count() + 1) * RETARGET_INTERVAL;
        // The next period's target may move at most 4x either way.
        let (hardest, easiest) = reachable(last, 1);
        let t = compact_to_target(last).unwrap();
        assert_eq!(hardest, truncate(t >> 2));
        assert_eq!(easiest, truncate(t << 2));
        // The pow limit is far out of reach one period on...
        let err = check(BitcoinNetwork::Mainnet, first_beyond, &header(GENESIS)).unwrap_err();
        assert!(err.contains("out of reach"), "{err}");
        // ...but reachable (and flagged) after enough easy periods; never easier than the limit.
        let far = first_beyond + 200 * RETARGET_INTERVAL;
        let ok = check(BitcoinNetwork::Mainnet, far, &header(GENESIS)).unwrap();
        assert!(ok.beyond_checkpoints);
        let easier = mine(with_bits(header(GENESIS), 0x207fffff));
        assert!(check(BitcoinNetwork::Mainnet, far, &easier).unwrap_err().contains("out of reach"));
    }

    #[test]
    fn beyond_the_table_a_target_at_either_bound_is_legal_and_one_step_past_it_is_not() {
        let last = known_target_bits(period_count()).unwrap();
        let first_beyond = (period_count() + 1) * RETARGET_INTERVAL;
        let (hardest, easiest) = reachable(last, 1);
        // No header here has work: a legal target is refused for the missing
        // work, an illegal one for the target itself.
        let reason = |bits: u32| check(BitcoinNetwork::Mainnet, first_beyond, &with_bits(header(GENESIS), bits));
        let (at_hardest, at_easiest) = (target_to_compact(hardest), target_to_compact(easiest));
        for bits in [at_hardest, at_easiest] {
            let err = reason(bits).unwrap_err();
            assert!(err.starts_with("it has no proof of work"), "0x{bits:08x}: {err}");
        }
        // One unit of the compact mantissa past each bound.
        for (bits, past) in [(at_hardest - 1, hardest), (at_easiest + 1, easiest)] {
            assert_ne!(compact_to_target(bits), Some(past), "0x{bits:08x} is past the bound");
            let err = reason(bits).unwrap_err();
            assert!(err.contains("is out of reach of mainnet's difficulty 1 retarget(s)"), "0x{bits:08x}: {err}");
        }
    }

    #[test]
    fn the_compiled_table_is_the_shared_json() {
        let shared = std::env::var_os("VOUCH_SHARED")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
        let path = shared.join("bitcoin/mainnet-checkpoints.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            // A mutation run (VOUCH_NO_SKIP=1) must not pass a test that checked nothing.
            assert!(std::env::var_os("VOUCH_NO_SKIP").is_none_or(|v| v != "1"), "{} absent", path.display());
            eprintln!("SKIP: the shared checkpoint table {} absent", path.display());
            return;
        };
        // The targets overflow every JSON number type serde_json has: split by hand.
        let flat: String = text.chars().filter(|c| !c.is_whitespace() && !"[]\"".contains(*c)).collect();
        let fields: Vec<&str> = flat.split(',').collect();
        let table: Vec<(&str, &str)> = fields.chunks(2).map(|pair| (pair[0], pair[1])).collect();
        assert_eq!(table.len() as u64, period_count());
        for (i, (hash, target)) in table.iter().enumerate() {
            let r = record(i as u64).unwrap();
            assert_eq!(&hex::encode(&r[..32]), hash);
            let bits = u32::from_be_bytes(r[32..36].try_into().unwrap());
            assert_eq!(compact_to_target(bits).unwrap().to_string(), *target, "period {}", i + 1);
        }
    }
}
