//! The campaign's limits — budget, per-channel capacity, `max_audience` — and the one check of
//! whether a set of target contacts respects them. The greedy allocation, the exchange moves and
//! the control draw's trimming all ask [`Usage`] rather than comparing sums themselves, so a new
//! limit (or a limit shared by several campaigns) is added here once.

/// Limits the target group must respect.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub budget: f64,
    /// Per channel; `usize::MAX` when unlimited.
    pub capacity: Vec<usize>,
    pub max_audience: usize,
}

/// Which limit a set of contacts breaks first (capacity, then budget, then audience size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Breach {
    Capacity(usize),
    Budget,
    Audience,
}

/// What a set of target contacts uses of the limits. Costs are summed in the order contacts
/// are added, so callers that add in the same order get the same bits.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Usage {
    pub spent: f64,
    pub taken: usize,
    pub per_channel: Vec<usize>,
}

impl Usage {
    pub fn new(n_channels: usize) -> Usage {
        Usage {
            spent: 0.0,
            taken: 0,
            per_channel: vec![0; n_channels],
        }
    }

    pub fn add(&mut self, channel: usize, cost: f64) {
        self.spent += cost;
        self.taken += 1;
        self.per_channel[channel] += 1;
    }

    /// Takes back one contact added with [`Usage::add`] (a plan's exchange moves).
    pub fn remove(&mut self, channel: usize, cost: f64) {
        self.spent -= cost;
        self.taken -= 1;
        self.per_channel[channel] -= 1;
    }

    /// Moves one contact from `from` to `to` (same customer, another channel).
    pub fn switch(&mut self, from: (usize, f64), to: (usize, f64)) {
        self.spent += to.1 - from.1;
        self.per_channel[from.0] -= 1;
        self.per_channel[to.0] += 1;
    }

    /// Whether `channel` has a free slot.
    pub fn has_room(&self, limits: &Limits, channel: usize) -> bool {
        self.per_channel[channel] < limits.capacity[channel]
    }

    /// Whether one more contact on `channel` at `cost` fits every limit.
    pub fn fits(&self, limits: &Limits, channel: usize, cost: f64) -> bool {
        self.taken < limits.max_audience
            && self.has_room(limits, channel)
            && self.spent + cost <= limits.budget
    }

    /// Whether moving a contact from `from` to `to` (another channel of the same customer)
    /// fits: the audience size does not change.
    pub fn fits_switch(&self, limits: &Limits, from: (usize, f64), to: (usize, f64)) -> bool {
        self.has_room(limits, to.0) && self.spent - from.1 + to.1 <= limits.budget
    }

    /// The first limit these contacts break, if any.
    pub fn breach(&self, limits: &Limits) -> Option<Breach> {
        if let Some(c) = (0..self.per_channel.len()).find(|&c| !self.within_capacity(limits, c)) {
            return Some(Breach::Capacity(c));
        }
        if self.spent > limits.budget {
            return Some(Breach::Budget);
        }
        if self.taken > limits.max_audience {
            return Some(Breach::Audience);
        }
        None
    }

    fn within_capacity(&self, limits: &Limits, c: usize) -> bool {
        self.per_channel[c] <= limits.capacity[c]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            budget: 2.0,
            capacity: vec![1, usize::MAX],
            max_audience: 3,
        }
    }

    #[test]
    fn each_limit_is_checked() {
        let l = limits();
        let mut u = Usage::new(2);
        assert!(u.fits(&l, 0, 1.0));
        u.add(0, 1.0);
        assert!(!u.fits(&l, 0, 0.1), "channel 0 is full");
        assert!(u.fits(&l, 1, 1.0), "exactly the budget fits");
        assert!(!u.fits(&l, 1, 1.5), "over the budget");
        u.add(1, 0.5);
        u.add(1, 0.0);
        assert!(!u.fits(&l, 1, 0.0), "max_audience reached");
        assert_eq!(u.breach(&l), None);
        assert!(u.fits_switch(&l, (1, 0.5), (1, 1.0)));
        assert!(!u.fits_switch(&l, (1, 0.5), (0, 0.5)), "channel 0 is full");
        u.switch((1, 0.5), (0, 0.5));
        assert_eq!(u.breach(&l), Some(Breach::Capacity(0)));
    }

    #[test]
    fn breaches_in_order() {
        let l = limits();
        let mut u = Usage::new(2);
        for _ in 0..4 {
            u.add(1, 1.0);
        }
        assert_eq!(u.breach(&l), Some(Breach::Budget));
        let mut u = Usage::new(2);
        for _ in 0..4 {
            u.add(1, 0.0);
        }
        assert_eq!(u.breach(&l), Some(Breach::Audience));
    }
}
