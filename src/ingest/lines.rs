//! The line of the file on which each record starts, for the rejects and "same as line N": a
//! record is one line unless a quoted value holds line feeds, and each of those pushes every
//! later record one line further down. Real files have few such values (most have no quote at
//! all), so the map keeps only the records after one, and bytes without a quote are not looked
//! at beyond one `memchr`.

/// Where each record of a file, or of a piece of one, starts: 1-based lines of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLines {
    /// The line of record 0.
    first: u64,
    /// `(record, extra)`, both ascending: from `record` on, records start `extra` lines further
    /// down than one line per record, for the line feeds inside quoted values before them.
    shifts: Vec<(u64, u64)>,
    /// Records fed so far.
    records: u64,
    /// Line feeds inside quoted values fed so far.
    extra: u64,
    /// Whether the bytes fed so far end inside a quoted value.
    quoted: bool,
}

impl RecordLines {
    /// No record fed yet; the first starts on line `first`.
    pub fn starting_at(first: u64) -> RecordLines {
        RecordLines {
            first,
            shifts: Vec::new(),
            records: 0,
            extra: 0,
            quoted: false,
        }
    }

    /// The line on which `record` starts (counted from 0).
    pub fn line(&self, record: u64) -> u64 {
        self.first + record + self.extra_before(record)
    }

    /// The line after the records fed: where the next piece starts.
    pub fn next_line(&self) -> u64 {
        self.line(self.records)
    }

    /// Lines added by quoted line feeds before `record`.
    fn extra_before(&self, record: u64) -> u64 {
        let i = self.shifts.partition_point(|(r, _)| *r <= record);
        i.checked_sub(1).map_or(0, |i| self.shifts[i].1)
    }

    /// Feeds the next bytes of the file, cut anywhere (inside a record or a quoted value too).
    /// A line feed ends a record after an even number of quotes, as [`super::read`] cuts pieces
    /// (a doubled quote inside a value counts twice, so the parity holds); this is how polars
    /// reads every file it accepts, where a quote opens only at the start of a field.
    pub fn feed(&mut self, bytes: &[u8]) {
        if !self.quoted && !self.record_moves() && memchr::memchr(b'"', bytes).is_none() {
            self.records += memchr::memchr_iter(b'\n', bytes).count() as u64;
            return;
        }
        // Byte by byte, the quote parity without a branch: in a file that quotes every value,
        // ~4 times faster than stopping at each quote and line feed (`memchr2`).
        let (mut quoted, mut records, mut extra) = (self.quoted, self.records, self.extra);
        let mut shifted = self.shifts.last().map_or(0, |s| s.1);
        for &b in bytes {
            quoted ^= b == b'"';
            if b == b'\n' {
                if quoted {
                    extra += 1;
                } else {
                    records += 1;
                    if extra > shifted {
                        self.shifts.push((records, extra));
                        shifted = extra;
                    }
                }
            }
        }
        (self.quoted, self.records, self.extra) = (quoted, records, extra);
    }

    /// Whether the record being fed holds quoted line feeds, so the next one starts further down.
    fn record_moves(&self) -> bool {
        self.extra > self.shifts.last().map_or(0, |s| s.1)
    }

    /// Feeds `records` whole records (a piece: the bytes start at a record boundary and parse to
    /// that many rows). Without a quote in them, the only cost is one `memchr`.
    pub fn feed_records(&mut self, bytes: &[u8], records: u64) {
        let start = self.records;
        if self.quoted || self.record_moves() || memchr::memchr(b'"', bytes).is_some() {
            self.feed(bytes);
        }
        // A last record without a line end is a record too.
        self.records = start + records;
    }

    /// The map from record `n` on, renumbered from 0: the rows of a file whose first `n`
    /// records are its header.
    pub fn skip(self, n: u64) -> RecordLines {
        let base = self.extra_before(n);
        RecordLines {
            first: self.line(n),
            shifts: self
                .shifts
                .iter()
                .filter(|(r, _)| *r > n)
                .map(|(r, e)| (r - n, e - base))
                .collect(),
            records: self.records.saturating_sub(n),
            extra: self.extra - base,
            quoted: self.quoted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line of every record of `text` (the first on line 1), fed in one piece.
    fn lines(text: &[u8]) -> Vec<u64> {
        let mut map = RecordLines::starting_at(1);
        map.feed(text);
        (0..records(text)).map(|r| map.line(r)).collect()
    }

    /// Records of `text` as polars reads it: one per line end outside quotes, plus a last one
    /// without a line end.
    fn records(text: &[u8]) -> u64 {
        let ends = text
            .iter()
            .scan(false, |quoted, b| {
                *quoted ^= *b == b'"';
                Some(*b == b'\n' && !*quoted)
            })
            .filter(|end| *end)
            .count() as u64;
        ends + u64::from(!text.is_empty() && !text.ends_with(b"\n"))
    }

    #[test]
    fn records_start_below_the_quoted_line_feeds_before_them() {
        assert_eq!(lines(b"a,b\n1,2\n3,4\n"), [1, 2, 3]);
        assert_eq!(lines(b"a,b\n1,\"x\ny\"\n3,4\n"), [1, 2, 4]);
        // Several in one value, in two values of one record, in two records; a doubled quote.
        assert_eq!(
            lines(b"a,b\n1,\"x\n\ny\"\n\"p\nq\",\"r\"\"\ns\"\n5,6\n\"t\nu\",7\n8,9"),
            [1, 2, 5, 8, 9, 11]
        );
        // CRLF line ends, inside quotes too; an empty line is a record.
        assert_eq!(lines(b"a,b\r\n1,\"x\r\ny\"\r\n\r\n3,4\r\n"), [1, 2, 4, 5]);
    }

    /// The header is record 0 of the file: a quoted line feed in it moves every row.
    #[test]
    fn a_quoted_line_feed_in_the_header_moves_every_row() {
        let mut map = RecordLines::starting_at(1);
        map.feed(b"\"a\nb\",c\n1,2\n\"3\n\",4\n5,6\n");
        let rows = map.skip(1);
        assert_eq!((0..3).map(|r| rows.line(r)).collect::<Vec<_>>(), [3, 4, 6]);
        assert_eq!(rows.next_line(), 7);
        let mut plain = RecordLines::starting_at(1);
        plain.feed(b"a,b\n1,2\n");
        assert_eq!(plain.skip(1).line(0), 2);
    }

    /// Fed in chunks cut anywhere (inside a quoted value, between `\r` and `\n`), or piece by
    /// piece with the pieces' record counts, the map is the one of the whole text.
    #[test]
    fn chunks_and_pieces_map_like_the_whole_text() {
        let text: &[u8] = b"a,b\r\n1,\"x\r\ny\"\r\n2,3\r\n\"p\n\nq\",4\r\n5,6\r\n\"r\ns\",7";
        let mut whole = RecordLines::starting_at(1);
        whole.feed(text);
        for size in 1..text.len() {
            let mut chunked = RecordLines::starting_at(1);
            text.chunks(size).for_each(|c| chunked.feed(c));
            assert_eq!(chunked, whole, "chunks of {size}");
        }
        // Pieces cut after records 2 and 4, each mapped alone from where the previous ended,
        // and all of them fed into one map of the file.
        let (a, rest) = text.split_at(b"a,b\r\n1,\"x\r\ny\"\r\n".len());
        let (b, c) = rest.split_at(b"2,3\r\n\"p\n\nq\",4\r\n".len());
        let mut file = RecordLines::starting_at(1);
        let mut next = 1;
        let mut first = Vec::new();
        for (piece, n) in [(a, 2), (b, 2), (c, 2)] {
            let mut alone = RecordLines::starting_at(next);
            alone.feed_records(piece, n);
            first.push(alone.line(0));
            next = alone.next_line();
            file.feed_records(piece, n);
        }
        assert_eq!(first, [whole.line(0), whole.line(2), whole.line(4)]);
        assert_eq!(
            (0..6).map(|r| file.line(r)).collect::<Vec<_>>(),
            [1, 2, 4, 5, 8, 9]
        );
        assert_eq!(
            (0..6).map(|r| whole.line(r)).collect::<Vec<_>>(),
            [1, 2, 4, 5, 8, 9]
        );
    }

    /// Without a quote, a piece is not scanned: its record count is taken as given.
    #[test]
    fn pieces_without_quotes_take_the_count_given() {
        let mut map = RecordLines::starting_at(2);
        map.feed_records(b"1,2\n3,4\n", 2);
        map.feed_records(b"5,\"6\n7\"\n8,9\n", 2);
        assert_eq!(
            (0..5).map(|r| map.line(r)).collect::<Vec<_>>(),
            [2, 3, 4, 6, 7]
        );
    }
}
