//! Splits a byte stream into candidate records ("units") without parsing them.
//!
//! Three framings cover what loggers and exporters write: JSON Lines (one record per line,
//! the fast path: a `memchr` for each newline), pretty-printed objects that span lines (found
//! by tracking brace depth outside strings), and a top-level JSON array of records. The
//! framing is chosen from the first bytes of the file and kept in the source's cursor, so a
//! resumed ingest continues in the same framing.
//!
//! The framer never holds more than `max_unit` bytes of one unit plus one read chunk: a line
//! over the cap is reported as [`RawKind::Oversize`] and its bytes are dropped as they are
//! read, which keeps memory bounded whatever the input.

use std::io::{self, Read};

use memchr::memchr;
use serde::{Deserialize, Serialize};

const CHUNK: usize = 1 << 20;

/// How a file's records are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Framing {
    /// One record per line.
    Lines,
    /// Objects that may span several lines, one after another.
    Pretty,
    /// Inside a top-level `[ {...}, {...} ]`.
    Array,
}

impl Framing {
    pub fn as_str(self) -> &'static str {
        match self {
            Framing::Lines => "lines",
            Framing::Pretty => "pretty",
            Framing::Array => "array",
        }
    }
    pub fn parse(s: &str) -> Framing {
        match s {
            "pretty" => Framing::Pretty,
            "array" => Framing::Array,
            _ => Framing::Lines,
        }
    }
}

/// What the framer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawKind {
    /// A complete unit (a line, or a balanced object) to parse.
    Unit,
    /// The last bytes of the input, not terminated by a newline (or an unbalanced object at
    /// the end). They may be completed later, so the cursor stays before them.
    Tail,
    /// A unit longer than the cap; its bytes are not available.
    Oversize,
    /// An object that was cut off before it closed (pretty/array framing only).
    Unclosed,
}

/// One unit: where it is and (for `Unit`/`Tail`) its bytes via [`Framer::bytes`].
#[derive(Debug, Clone, Copy)]
pub struct RawUnit {
    pub kind: RawKind,
    /// 1-based line where the unit starts.
    pub line: u64,
    /// Absolute byte offset of the unit's first byte.
    pub offset: u64,
    /// Absolute offset just past the unit (and its newline): where a resume would start.
    pub end: u64,
    /// Line number just past the unit.
    pub end_line: u64,
    start: usize,
    stop: usize,
}

/// Incremental framer over any reader.
#[derive(Debug)]
pub struct Framer<R> {
    r: R,
    buf: Vec<u8>,
    pos: usize,
    base: u64,
    line: u64,
    eof: bool,
    framing: Option<Framing>,
    max_unit: usize,
    /// Indentation of the array's elements, used to resynchronise after a broken element.
    array_indent: Option<usize>,
}

impl<R: Read> Framer<R> {
    /// `offset`/`line`: where `r` starts (a resumed cursor). `framing`: known framing, or
    /// `None` to detect it from the first bytes.
    pub fn new(r: R, offset: u64, line: u64, framing: Option<Framing>, max_unit: usize) -> Self {
        Framer {
            r,
            buf: Vec::with_capacity(CHUNK * 2),
            pos: 0,
            base: offset,
            line,
            eof: false,
            framing,
            max_unit,
            array_indent: None,
        }
    }

    pub fn framing(&self) -> Option<Framing> {
        self.framing
    }

    /// Bytes of a `Unit`/`Tail` returned by the last call to [`Framer::next_unit`].
    pub fn bytes(&self, u: &RawUnit) -> &[u8] {
        self.buf.get(u.start..u.stop).unwrap_or_default()
    }

    /// Bytes consumed so far (absolute offset of the read position).
    pub fn position(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
        }
        let old = self.buf.len();
        self.buf.resize(old + CHUNK, 0);
        let n = loop {
            match self.r.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(old + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    fn unit(&self, kind: RawKind, start: usize, stop: usize, next: usize, line: u64) -> RawUnit {
        RawUnit {
            kind,
            line,
            offset: self.base + start as u64,
            end: self.base + next as u64,
            end_line: self.line,
            start,
            stop,
        }
    }

    /// Decides the framing from the first bytes (reads ahead as needed).
    fn detect(&mut self) -> io::Result<Framing> {
        // Enough to see the first line or the first object's opening.
        while !self.eof && self.buf.len() - self.pos < 64 * 1024 {
            if memchr(b'\n', &self.buf[self.pos..]).is_some() && self.buf.len() - self.pos > 4096 {
                break;
            }
            self.fill()?;
        }
        let data = &self.buf[self.pos..];
        let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
        let mut it = data.iter().copied().filter(|b| !b.is_ascii_whitespace());
        Ok(match it.next() {
            Some(b'[') => match it.next() {
                Some(b'{') | Some(b']') | None => Framing::Array,
                _ => Framing::Lines,
            },
            Some(b'{') => {
                // Pretty when the first object does not close on its first line.
                let start = data.iter().position(|b| *b == b'{').unwrap_or(0);
                let first_line_end =
                    memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
                match scan_object(&data[start..first_line_end]) {
                    Scan::Closed(_) => Framing::Lines,
                    _ => Framing::Pretty,
                }
            }
            _ => Framing::Lines,
        })
    }

    /// The next unit, or `None` at the end of the input.
    pub fn next_unit(&mut self) -> io::Result<Option<RawUnit>> {
        let framing = match self.framing {
            Some(f) => f,
            None => {
                let f = self.detect()?;
                // Skip a byte-order mark so it does not become part of the first record.
                if self.base == 0 && self.buf[self.pos..].starts_with(b"\xEF\xBB\xBF") {
                    self.pos += 3;
                }
                self.framing = Some(f);
                f
            }
        };
        match framing {
            Framing::Lines => self.next_line(),
            Framing::Pretty | Framing::Array => self.next_structured(framing),
        }
    }

    fn next_line(&mut self) -> io::Result<Option<RawUnit>> {
        let mut oversize: Option<(u64, u64)> = None; // (line, offset) of a line being dropped
        loop {
            if let Some(i) = memchr(b'\n', &self.buf[self.pos..]) {
                let start = self.pos;
                let stop = start + i;
                self.pos = stop + 1;
                let line = self.line;
                self.line += 1;
                if let Some((l, off)) = oversize {
                    let mut u = self.unit(RawKind::Oversize, start, start, self.pos, l);
                    u.offset = off;
                    return Ok(Some(u));
                }
                if stop - start > self.max_unit {
                    return Ok(Some(self.unit(
                        RawKind::Oversize,
                        start,
                        start,
                        self.pos,
                        line,
                    )));
                }
                let stop = if stop > start && self.buf[stop - 1] == b'\r' {
                    stop - 1
                } else {
                    stop
                };
                return Ok(Some(self.unit(RawKind::Unit, start, stop, self.pos, line)));
            }
            if self.buf.len() - self.pos > self.max_unit {
                // Drop what we have of this line; remember where it began.
                if oversize.is_none() {
                    oversize = Some((self.line, self.base + self.pos as u64));
                }
                self.pos = self.buf.len();
            }
            if !self.fill()? {
                if let Some((l, off)) = oversize {
                    // An oversize last line with no newline yet: reported, but the cursor
                    // stays before it (it may still be being written).
                    let mut u = self.unit(RawKind::Oversize, self.pos, self.pos, self.pos, l);
                    u.offset = off;
                    u.end = off;
                    u.end_line = l;
                    return Ok(Some(u));
                }
                if self.pos < self.buf.len() {
                    let start = self.pos;
                    let stop = self.buf.len();
                    let u = RawUnit {
                        kind: RawKind::Tail,
                        line: self.line,
                        offset: self.base + start as u64,
                        end: self.base + stop as u64,
                        end_line: self.line,
                        start,
                        stop,
                    };
                    self.pos = stop;
                    return Ok(Some(u));
                }
                return Ok(None);
            }
        }
    }

    fn next_structured(&mut self, framing: Framing) -> io::Result<Option<RawUnit>> {
        loop {
            // Skip separators between units.
            while self.pos < self.buf.len() {
                match self.buf[self.pos] {
                    b'\n' => {
                        self.line += 1;
                        self.pos += 1;
                    }
                    b' ' | b'\t' | b'\r' | b',' => self.pos += 1,
                    b'[' if framing == Framing::Array => self.pos += 1,
                    b']' if framing == Framing::Array => {
                        // End of the array: whatever follows is read line by line.
                        self.pos += 1;
                        self.framing = Some(Framing::Lines);
                        // The rest of the closing bracket's line is not a unit of its own.
                        while let Some(b' ' | b'\t' | b'\r') = self.buf.get(self.pos) {
                            self.pos += 1;
                        }
                        if self.buf.get(self.pos) == Some(&b'\n') {
                            self.pos += 1;
                            self.line += 1;
                        }
                        return self.next_unit();
                    }
                    _ => break,
                }
            }
            if self.pos >= self.buf.len() {
                if !self.fill()? {
                    return Ok(None);
                }
                continue;
            }
            let start = self.pos;
            let line = self.line;
            if self.buf[start] != b'{' {
                // Not an object: hand the rest of the line over as a unit (it will be
                // reported as what it is).
                return self.next_line();
            }
            if framing == Framing::Array && self.array_indent.is_none() {
                let line_start = self.buf[..start]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |i| i + 1);
                self.array_indent = Some(start - line_start);
            }
            match scan_object(&self.buf[start..]) {
                Scan::Closed(len) => {
                    let stop = start + len;
                    self.line += count_newlines(&self.buf[start..stop]);
                    self.pos = stop;
                    return Ok(Some(self.unit(RawKind::Unit, start, stop, stop, line)));
                }
                Scan::Broken(len) => {
                    // A new record began before this one closed.
                    let stop = start + len;
                    self.line += count_newlines(&self.buf[start..stop]);
                    self.pos = stop;
                    return Ok(Some(self.unit(RawKind::Unclosed, start, stop, stop, line)));
                }
                Scan::Open => {
                    if self.buf.len() - start > self.max_unit {
                        return self.drop_oversize(start, line, framing);
                    }
                    if !self.fill()? {
                        let start = self.pos;
                        let stop = self.buf.len();
                        self.line += count_newlines(&self.buf[start..stop]);
                        self.pos = stop;
                        return Ok(Some(self.unit(RawKind::Tail, start, stop, stop, line)));
                    }
                }
            }
        }
    }

    /// Drops an object over the cap: skips to the next line that starts a record.
    fn drop_oversize(
        &mut self,
        start: usize,
        line: u64,
        framing: Framing,
    ) -> io::Result<Option<RawUnit>> {
        let offset = self.base + start as u64;
        self.line += count_newlines(&self.buf[start..]);
        self.pos = self.buf.len();
        let indent = self.array_indent.unwrap_or(0);
        loop {
            if !self.fill()? {
                let mut u = self.unit(RawKind::Oversize, self.pos, self.pos, self.pos, line);
                u.offset = offset;
                return Ok(Some(u));
            }
            let mut i = self.pos;
            while let Some(n) = memchr(b'\n', &self.buf[i..]) {
                let ls = i + n + 1;
                self.line += 1;
                let rest = &self.buf[ls..];
                let resync = match framing {
                    Framing::Array => {
                        rest.len() > indent
                            && rest[..indent].iter().all(|b| *b == b' ' || *b == b'\t')
                            && rest[indent] == b'{'
                    }
                    _ => rest.first() == Some(&b'{'),
                };
                if resync {
                    self.pos = ls;
                    let mut u = self.unit(RawKind::Oversize, ls, ls, ls, line);
                    u.offset = offset;
                    return Ok(Some(u));
                }
                i = ls;
            }
            self.pos = self.buf.len();
        }
    }
}

fn count_newlines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}

enum Scan {
    /// The object closes after this many bytes.
    Closed(usize),
    /// A line starting with `{` appeared before the object closed: it ends here, broken.
    Broken(usize),
    /// Still open at the end of the data.
    Open,
}

/// Finds where the object starting at `data[0] == b'{'` closes, honouring strings.
fn scan_object(data: &[u8]) -> Scan {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut esc = false;
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        if in_str {
            if esc {
                esc = false;
            } else if b == b'\\' {
                esc = true;
            } else if b == b'"' {
                in_str = false;
            } else if b == b'\n' {
                // Raw newlines cannot be inside a JSON string: the record was cut here.
                return Scan::Broken(i + 1);
            }
        } else {
            match b {
                b'"' => in_str = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Scan::Closed(i + 1);
                    }
                }
                b'\n' if depth > 0 && data.get(i + 1) == Some(&b'{') => {
                    return Scan::Broken(i + 1);
                }
                _ => {}
            }
        }
        i += 1;
    }
    Scan::Open
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(input: &[u8], max: usize) -> Vec<(RawKind, u64, String)> {
        let mut f = Framer::new(input, 0, 1, None, max);
        let mut out = Vec::new();
        while let Some(u) = f.next_unit().unwrap() {
            out.push((
                u.kind,
                u.line,
                String::from_utf8_lossy(f.bytes(&u)).into_owned(),
            ));
        }
        out
    }

    #[test]
    fn lines_with_tail_and_crlf() {
        let u = units(b"{\"a\":1}\r\n\n{\"b\":2}\n{\"c\"", 100);
        assert_eq!(
            u,
            vec![
                (RawKind::Unit, 1, "{\"a\":1}".into()),
                (RawKind::Unit, 2, "".into()),
                (RawKind::Unit, 3, "{\"b\":2}".into()),
                (RawKind::Tail, 4, "{\"c\"".into()),
            ]
        );
    }

    #[test]
    fn oversize_line_dropped() {
        let mut input = b"{\"a\":1}\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 5000));
        input.extend(b"\n{\"b\":2}\n");
        let u = units(&input, 100);
        assert_eq!(u.len(), 3);
        assert_eq!((u[1].0, u[1].1), (RawKind::Oversize, 2));
        assert_eq!(u[2], (RawKind::Unit, 3, "{\"b\":2}".into()));
    }

    #[test]
    fn pretty_objects() {
        let input = b"{\n  \"a\": {\"x\": \"}\"},\n  \"b\": 1\n}\n{\n  \"c\": 2\n}\nnot json\n{\n  \"d\":\n";
        let u = units(input, 1000);
        assert_eq!(u.len(), 4, "{u:?}");
        assert_eq!((u[0].0, u[0].1), (RawKind::Unit, 1));
        assert_eq!((u[1].0, u[1].1), (RawKind::Unit, 5));
        assert_eq!(u[2], (RawKind::Unit, 8, "not json".into()));
        assert_eq!((u[3].0, u[3].1), (RawKind::Tail, 9));
    }

    #[test]
    fn array_of_records() {
        let input = b"[\n  {\"a\": 1},\n  {\"b\": [1,\n 2]}\n]\n{\"after\":1}\n";
        let u = units(input, 1000);
        assert_eq!(u.len(), 3, "{u:?}");
        assert_eq!(u[0], (RawKind::Unit, 2, "{\"a\": 1}".into()));
        assert_eq!(u[1].1, 3);
        assert_eq!(u[2], (RawKind::Unit, 6, "{\"after\":1}".into()));
    }

    #[test]
    fn array_line_is_not_array_framing() {
        let u = units(b"[1, 2, 3]\n{\"a\":1}\n", 100);
        assert_eq!(u[0], (RawKind::Unit, 1, "[1, 2, 3]".into()));
    }
}
