//! Random mutations of YAML texts, for the differential tests of every
//! [`crate::Sink`] (kustomize's, Helm's): wherever the fast reader accepts a
//! mutated text, the caller's general parser must accept it and agree.

/// `rounds` texts, each seed `round % seeds.len()` with one to three edits:
/// a character from `alphabet` inserted, a byte removed, spaces inserted, or
/// a line repeated. Mutations that are not UTF-8 are skipped; each item is
/// `(round, text)`. Deterministic for a given `seed` (xorshift).
pub fn mutations<'a>(
    seeds: &'a [&'a str],
    alphabet: &'a [u8],
    rounds: usize,
    seed: u64,
) -> impl Iterator<Item = (usize, String)> + 'a {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..rounds).filter_map(move |round| {
        let mut t: Vec<u8> = seeds.get(round % seeds.len().max(1))?.as_bytes().to_vec();
        for _ in 0..=(next() % 3) {
            let pos = (next() as usize) % (t.len() + 1);
            match next() % 4 {
                0 => t.insert(pos, alphabet[(next() as usize) % alphabet.len().max(1)]),
                1 if pos < t.len() => {
                    t.remove(pos);
                }
                2 => {
                    for _ in 0..(next() % 3 + 1) {
                        t.insert(pos, b' ');
                    }
                }
                _ => {
                    let ls = t[..pos]
                        .iter()
                        .rposition(|&c| c == b'\n')
                        .map_or(0, |p| p + 1);
                    let le = t[pos..]
                        .iter()
                        .position(|&c| c == b'\n')
                        .map_or(t.len(), |p| pos + p + 1);
                    let line = t[ls..le].to_vec();
                    t.splice(le..le, line);
                }
            }
        }
        String::from_utf8(t).ok().map(|text| (round, text))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_deterministic_and_edit_their_seed() {
        let seeds = ["a: 1\nb: [x, y]\n", "- k: v\n"];
        let a: Vec<_> = mutations(&seeds, b" :-x", 50, 7).collect();
        let b: Vec<_> = mutations(&seeds, b" :-x", 50, 7).collect();
        assert_eq!(a, b);
        assert!(a.len() > 40);
        assert!(a.iter().any(|(r, t)| t != seeds[r % 2]));
        let c: Vec<_> = mutations(&seeds, b" :-x", 50, 8).collect();
        assert_ne!(a, c);
    }
}
