//! Splitting row-wise work over the cores: consecutive slices of rows, and partitions of a
//! 64-bit hash space. Shared by ingest's duplicate check and the feature builders' customer
//! keys, which both hash millions of rows in slices and then let each partition of the hash
//! space own its rows, so that no map is shared between threads.

/// Threads to split row work over: the cores, at most 16.
pub(crate) fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1)
        .clamp(1, 16)
}

/// `f(start, len)` for consecutive slices covering `0..n`, one per thread, results in slice
/// order.
pub(crate) fn per_slice<T: Send>(n: usize, f: impl Fn(usize, usize) -> T + Sync) -> Vec<T> {
    let slice_len = n.div_ceil(threads()).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .step_by(slice_len)
            .map(|start| scope.spawn(move || f(start, slice_len.min(n - start))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("row-slice thread"))
            .collect()
    })
}

/// The hash space cut by its top bits into a power-of-two number of partitions, one per
/// thread.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HashSpace {
    partitions: usize,
    shift: u32,
}

impl HashSpace {
    pub(crate) fn new() -> HashSpace {
        let partitions = threads().next_power_of_two();
        HashSpace {
            partitions,
            shift: 64 - partitions.trailing_zeros(),
        }
    }

    pub(crate) fn partitions(self) -> usize {
        self.partitions
    }

    /// The partition that owns hash `h`.
    pub(crate) fn owner(self, h: u64) -> usize {
        if self.shift == 64 {
            0
        } else {
            (h >> self.shift) as usize
        }
    }

    /// `f(p)` for every partition, one thread each, results in partition order.
    pub(crate) fn per_partition<T: Send>(self, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
        let f = &f;
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..self.partitions)
                .map(|p| scope.spawn(move || f(p)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("hash-partition thread"))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cover_every_row_once_in_order() {
        for n in [0usize, 1, 2, 5, 1000] {
            let slices = per_slice(n, |start, len| (start, len));
            let mut next = 0;
            for (start, len) in slices {
                assert_eq!(start, next);
                next += len;
            }
            assert_eq!(next, n);
        }
    }

    #[test]
    fn every_hash_has_one_owner_among_the_partitions() {
        let space = HashSpace::new();
        for h in [0u64, 1, u64::MAX, 1 << 63, 0x1234_5678_9abc_def0] {
            assert!(space.owner(h) < space.partitions());
        }
        assert_eq!(
            space.per_partition(|p| p),
            (0..space.partitions()).collect::<Vec<_>>()
        );
    }
}
