//! Bounds-checked TLS vector readers: `tlsmon/wire/vectors.py` (by offset) and `buffer.py` (a cursor).
//!
//! Theory of operation: every read checks its bounds against the `end` of the enclosing block before
//! touching the data, and fails with [`Malformed`] exactly where the Python reader raises `ValueError`, so
//! both parsers agree on what is malformed. The offset functions return `(start, stop)` or the value and the
//! offset after it; [`Buffer`] pulls from a position and narrows its end inside a block.

/// A read ran past its block (Python's `BufferReadError`) or a message broke its specification (`ParseError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

pub type Result<T> = std::result::Result<T, Malformed>;

pub fn uint8_at(data: &[u8], off: usize, end: usize) -> Result<u8> {
    if off >= end {
        return Err(Malformed);
    }
    Ok(data[off])
}

pub fn uint16_at(data: &[u8], off: usize, end: usize) -> Result<u16> {
    if off + 2 > end {
        return Err(Malformed);
    }
    Ok(u16::from_be_bytes([data[off], data[off + 1]]))
}

pub fn block8(data: &[u8], off: usize, end: usize) -> Result<(usize, usize)> {
    if off >= end {
        return Err(Malformed);
    }
    let stop = off + 1 + data[off] as usize;
    if stop > end {
        return Err(Malformed);
    }
    Ok((off + 1, stop))
}

pub fn block16(data: &[u8], off: usize, end: usize) -> Result<(usize, usize)> {
    let length = uint16_at(data, off, end)? as usize;
    let stop = off + 2 + length;
    if stop > end {
        return Err(Malformed);
    }
    Ok((off + 2, stop))
}

pub fn block24(data: &[u8], off: usize, end: usize) -> Result<(usize, usize)> {
    if off + 3 > end {
        return Err(Malformed);
    }
    let stop = off
        + 3
        + ((data[off] as usize) << 16 | (data[off + 1] as usize) << 8 | data[off + 2] as usize);
    if stop > end {
        return Err(Malformed);
    }
    Ok((off + 3, stop))
}

fn uint16s(data: &[u8]) -> Vec<u32> {
    data.chunks_exact(2)
        .map(|p| u32::from(u16::from_be_bytes([p[0], p[1]])))
        .collect()
}

pub fn uint8_list8(data: &[u8], off: usize, end: usize) -> Result<(Vec<u32>, usize)> {
    let (start, stop) = block8(data, off, end)?;
    Ok((
        data[start..stop].iter().map(|&b| u32::from(b)).collect(),
        stop,
    ))
}

pub fn uint16_list8(data: &[u8], off: usize, end: usize) -> Result<(Vec<u32>, usize)> {
    let (start, stop) = block8(data, off, end)?;
    if (stop - start) % 2 != 0 {
        return Err(Malformed);
    }
    Ok((uint16s(&data[start..stop]), stop))
}

pub fn uint16_list16(data: &[u8], off: usize, end: usize) -> Result<(Vec<u32>, usize)> {
    let (start, stop) = block16(data, off, end)?;
    if (stop - start) % 2 != 0 {
        return Err(Malformed);
    }
    Ok((uint16s(&data[start..stop]), stop))
}

pub fn opaque8_list16(data: &[u8], off: usize, end: usize) -> Result<(Vec<Vec<u8>>, usize)> {
    let (mut pos, stop) = block16(data, off, end)?;
    let mut items = Vec::new();
    while pos < stop {
        let item_stop = pos + 1 + data[pos] as usize;
        if item_stop > stop {
            return Err(Malformed);
        }
        items.push(data[pos + 1..item_stop].to_vec());
        pos = item_stop;
    }
    Ok((items, stop))
}

/// A read cursor with a narrowable end, like `tlsmon.wire.buffer.Buffer`.
pub struct Buffer<'a> {
    data: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Buffer<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            end: data.len(),
        }
    }

    pub fn eof(&self) -> bool {
        self.pos >= self.end
    }

    pub fn pull_bytes(&mut self, length: usize) -> Result<&'a [u8]> {
        let stop = self.pos + length;
        if stop > self.end {
            return Err(Malformed);
        }
        let out = &self.data[self.pos..stop];
        self.pos = stop;
        Ok(out)
    }

    pub fn pull_uint(&mut self, size: usize) -> Result<u32> {
        let bytes = self.pull_bytes(size)?;
        Ok(bytes.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
    }

    pub fn pull_uint8(&mut self) -> Result<u32> {
        self.pull_uint(1)
    }

    pub fn pull_uint16(&mut self) -> Result<u32> {
        self.pull_uint(2)
    }

    pub fn pull_uint24(&mut self) -> Result<u32> {
        self.pull_uint(3)
    }

    pub fn pull_uint32(&mut self) -> Result<u32> {
        self.pull_uint(4)
    }

    /// An `opaque x<..>` with a `len_size`-byte length.
    pub fn pull_opaque(&mut self, len_size: usize) -> Result<&'a [u8]> {
        let length = self.pull_uint(len_size)? as usize;
        self.pull_bytes(length)
    }

    /// A uint16 vector with a `len_size`-byte length (odd lengths are malformed).
    pub fn pull_uint16_vector(&mut self, len_size: usize) -> Result<Vec<u32>> {
        let length = self.pull_uint(len_size)? as usize;
        if length % 2 != 0 {
            return Err(Malformed);
        }
        Ok(uint16s(self.pull_bytes(length)?))
    }

    /// The number of items of a vector with a `len_size`-byte length, each read by `item`, which must use
    /// the block up exactly (`pull_list` over `pull_block`).
    pub fn pull_list_count(
        &mut self,
        len_size: usize,
        mut item: impl FnMut(&mut Self) -> Result<()>,
    ) -> Result<usize> {
        let length = self.pull_uint(len_size)? as usize;
        let stop = self.pos + length;
        if stop > self.end {
            return Err(Malformed);
        }
        let outer = self.end;
        self.end = stop;
        let mut count = 0;
        let mut outcome = Ok(());
        while !self.eof() {
            if let Err(e) = item(self) {
                outcome = Err(e);
                break;
            }
            count += 1;
        }
        self.end = outer;
        outcome?;
        if self.pos != stop {
            return Err(Malformed);
        }
        Ok(count)
    }
}
