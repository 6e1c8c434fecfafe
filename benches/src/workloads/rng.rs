//! A tiny deterministic random source, so every run generates the same workload bytes.

/// xorshift64*: fast, seedable, and good enough to vary colours and word lengths.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // A zero state would stay zero forever.
        Self(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A lowercase word of 2 to 9 letters.
    pub fn word(&mut self, out: &mut Vec<u8>) {
        let len = 2 + self.below(8);
        for _ in 0..len {
            out.push(b'a' + self.below(26) as u8);
        }
    }
}
