//! One line of text for stderr, built in a stack buffer and written with
//! `write(2)`: how the allocator reports (hardened-mode aborts, the C
//! library's exit banner) without allocating.

/// A line of at most 160 bytes; longer text is cut off.
pub struct StderrLine {
    buf: [u8; 160],
    len: usize,
}

impl Default for StderrLine {
    fn default() -> Self {
        Self::new()
    }
}

impl StderrLine {
    /// An empty line.
    pub const fn new() -> StderrLine {
        StderrLine {
            buf: [0; 160],
            len: 0,
        }
    }

    /// Appends bytes (as many as fit).
    pub fn push(&mut self, bytes: &[u8]) -> &mut Self {
        for &b in bytes {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
        self
    }

    /// Appends `n` in decimal.
    pub fn push_u64(&mut self, mut n: u64) -> &mut Self {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 || i == 0 {
                break;
            }
        }
        self.push(&digits[i..])
    }

    /// Appends `v` as 16 hexadecimal digits (no prefix).
    pub fn push_hex(&mut self, v: usize) -> &mut Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for shift in (0..16).rev() {
            self.push(&[DIGITS[(v >> (shift * 4)) & 15]]);
        }
        self
    }

    /// Writes the line to stderr (fd 2); errors are ignored, there is no one to tell.
    pub fn write(&self) {
        // SAFETY: writes `len` initialised bytes of our own buffer to fd 2.
        unsafe { libc::write(2, self.buf.as_ptr() as *const libc::c_void, self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::StderrLine;

    #[test]
    fn formats_numbers_and_cuts_long_text() {
        let mut l = StderrLine::new();
        l.push(b"n=")
            .push_u64(0)
            .push(b" ")
            .push_u64(18_446_744_073_709_551_615)
            .push(b" 0x")
            .push_hex(0xbeef);
        assert_eq!(
            &l.buf[..l.len],
            b"n=0 18446744073709551615 0x000000000000beef"
        );
        let mut long = StderrLine::new();
        long.push(&[b'x'; 200]);
        assert_eq!(long.len, 160);
    }
}
