//! go-yaml v2's order of mapping keys (`keyList.Less` for string keys).

use std::cmp::Ordering;

/// go-yaml v2's "natural" key order: runs of digits compare as numbers (`a9` < `a10`),
/// letters sort after other characters (`_x` < `A`), and on an equal number the shorter
/// run (fewer leading zeros) comes first.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    // Only the first difference decides. When it is between two ASCII bytes (nearly always),
    // the bytes give the answer: the prefix before it is the same text, digits are ASCII,
    // and an ASCII byte is a whole character whose classes and order are the byte's.
    match ab.iter().zip(bb).position(|(x, y)| x != y) {
        None => ab.len().cmp(&bb.len()),
        Some(i) if ab[i].is_ascii() && bb[i].is_ascii() => {
            natural_cmp_at(ab, bb, i, u8::is_ascii_alphabetic, |c| {
                c.is_ascii_digit().then(|| c - b'0')
            })
        }
        Some(_) => {
            let ar: Vec<char> = a.chars().collect();
            let br: Vec<char> = b.chars().collect();
            let i = ar.iter().zip(&br).take_while(|(x, y)| x == y).count();
            natural_cmp_at(
                &ar,
                &br,
                i,
                |c| c.is_alphabetic(),
                |c| c.is_ascii_digit().then(|| c as u8 - b'0'),
            )
        }
    }
}

/// [`natural_cmp`] over code units (bytes, or `char`s), given the index `i` of their first
/// difference; `digit` gives an ASCII digit's value.
fn natural_cmp_at<T: Copy + Ord>(
    ar: &[T],
    br: &[T],
    i: usize,
    alphabetic: impl Fn(&T) -> bool,
    digit: impl Fn(T) -> Option<u8>,
) -> Ordering {
    let is_digit = |c: T| digit(c).is_some();
    let al = alphabetic(&ar[i]);
    let bl = alphabetic(&br[i]);
    if al && bl {
        return ar[i].cmp(&br[i]);
    }
    if al || bl {
        return if bl {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    // A zero inside a number that started earlier (the prefix is shared) is an
    // ordinary digit: the numbers compare from a non-zero start.
    let (mut an, mut bn) = (0i64, 0i64);
    if digit(ar[i]) == Some(0) || digit(br[i]) == Some(0) {
        let mut j = i;
        while j > 0 && is_digit(ar[j - 1]) {
            j -= 1;
            if digit(ar[j]) != Some(0) {
                an = 1;
                bn = 1;
                break;
            }
        }
    }
    let mut ai = i;
    while let Some(d) = ar.get(ai).and_then(|&c| digit(c)) {
        an = an.wrapping_mul(10).wrapping_add(i64::from(d));
        ai += 1;
    }
    let mut bi = i;
    while let Some(d) = br.get(bi).and_then(|&c| digit(c)) {
        bn = bn.wrapping_mul(10).wrapping_add(i64::from(d));
        bi += 1;
    }
    if an != bn {
        return an.cmp(&bn);
    }
    if ai != bi {
        return ai.cmp(&bi);
    }
    ar[i].cmp(&br[i])
}

/// Sort mapping entries into go-yaml v2's key order without panicking.
///
/// [`natural_cmp`] is not a total order for some keys with leading zeros (`1` < `01` < `0a`
/// yet `0a` < `1`), and Rust's `sort_by` may panic on such input. Go sorts with `sort.Sort`,
/// which orders up to 12 items by insertion sort: that is done here too, so small maps come
/// out as go-yaml prints them even then. Larger ones use a stable merge sort, which agrees
/// with Go's whenever the order is consistent (keys are unique, so there are no ties).
pub fn sort_naturally<T>(v: &mut [T], key: impl Fn(&T) -> &str) {
    let n = v.len();
    if n <= 12 {
        for i in 1..n {
            let mut j = i;
            while j > 0 && natural_cmp(key(&v[j]), key(&v[j - 1])) == Ordering::Less {
                v.swap(j, j - 1);
                j -= 1;
            }
        }
        return;
    }
    // Merge sort of positions, then the permutation applied cycle by cycle.
    let mut perm: Vec<usize> = (0..n).collect();
    let mut buf = vec![0usize; n];
    let mut width = 1;
    while width < n {
        let mut lo = 0;
        while lo < n {
            let mid = (lo + width).min(n);
            let hi = (lo + 2 * width).min(n);
            let (mut a, mut b, mut o) = (lo, mid, lo);
            while a < mid && b < hi {
                if natural_cmp(key(&v[perm[b]]), key(&v[perm[a]])) == Ordering::Less {
                    buf[o] = perm[b];
                    b += 1;
                } else {
                    buf[o] = perm[a];
                    a += 1;
                }
                o += 1;
            }
            buf[o..o + (mid - a)].copy_from_slice(&perm[a..mid]);
            o += mid - a;
            buf[o..o + (hi - b)].copy_from_slice(&perm[b..hi]);
            lo = hi;
        }
        std::mem::swap(&mut perm, &mut buf);
        width *= 2;
    }
    for start in 0..n {
        if perm[start] == usize::MAX {
            continue;
        }
        let mut i = start;
        loop {
            let src = perm[i];
            perm[i] = usize::MAX;
            if src == start {
                break;
            }
            v.swap(i, src);
            i = src;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inconsistent_keys_sort_without_panicking() {
        // 1 < 01 < 0a, yet 0a < 1: no total order.
        let mut small = vec!["0a", "1", "01"];
        sort_naturally(&mut small, |k| k);
        assert_eq!(small.len(), 3);
        let mut big: Vec<String> = (0..200)
            .map(|i| ["1", "01", "0a", "001", "0b"][i % 5].to_string() + &"x".repeat(i / 5))
            .collect();
        sort_naturally(&mut big, |k| k.as_str());
        assert_eq!(big.len(), 200);
    }

    #[test]
    fn natural_sort_matches_a_plain_sort_on_consistent_keys() {
        for n in [0, 1, 5, 12, 13, 40, 333] {
            let keys: Vec<String> = (0..n)
                .map(|i| format!("k{}_{}", (i * 7919) % 101, i % 7))
                .collect();
            let mut a = keys.clone();
            let mut b = keys.clone();
            a.sort_by(|x, y| natural_cmp(x, y));
            sort_naturally(&mut b, |k| k.as_str());
            assert_eq!(a, b, "n={n}");
        }
    }

    fn sorted(mut k: Vec<&str>) -> Vec<&str> {
        k.sort_by(|a, b| natural_cmp(a, b));
        k
    }

    #[test]
    fn letters_after_other_characters_and_numbers_by_value() {
        assert_eq!(
            sorted(vec!["b", "a10", "a9", "A", "_x", "a-b", "a.b", "a"]),
            ["_x", "A", "a", "a-b", "a.b", "a9", "a10", "b"]
        );
        assert_eq!(
            sorted(vec!["10", "9", "1", "010", "01"]),
            ["1", "01", "9", "10", "010"]
        );
        assert_eq!(sorted(vec!["a100", "a20", "a3"]), ["a3", "a20", "a100"]);
    }

    #[test]
    fn order_is_antisymmetric() {
        let keys = [
            "", "a", "a0", "a00", "a1", "a01", "10", "1a", "x_1", "x-1", "é", "Z",
        ];
        for a in keys {
            for b in keys {
                assert_eq!(
                    natural_cmp(a, b),
                    natural_cmp(b, a).reverse(),
                    "{a:?} {b:?}"
                );
            }
        }
    }
    /// The order as first written here (on `char` vectors), to check the byte walk against.
    fn natural_cmp_reference(a: &str, b: &str) -> Ordering {
        let ar: Vec<char> = a.chars().collect();
        let br: Vec<char> = b.chars().collect();
        let digit = |c: char| c.is_ascii_digit();
        for i in 0..ar.len().min(br.len()) {
            if ar[i] == br[i] {
                continue;
            }
            let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
            if al && bl {
                return ar[i].cmp(&br[i]);
            }
            if al || bl {
                return if bl {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
            }
            let (mut an, mut bn) = (0i64, 0i64);
            if ar[i] == '0' || br[i] == '0' {
                let mut j = i;
                while j > 0 && digit(ar[j - 1]) {
                    j -= 1;
                    if ar[j] != '0' {
                        (an, bn) = (1, 1);
                        break;
                    }
                }
            }
            let mut ai = i;
            while ai < ar.len() && digit(ar[ai]) {
                an = an
                    .wrapping_mul(10)
                    .wrapping_add(i64::from(ar[ai] as u8 - b'0'));
                ai += 1;
            }
            let mut bi = i;
            while bi < br.len() && digit(br[bi]) {
                bn = bn
                    .wrapping_mul(10)
                    .wrapping_add(i64::from(br[bi] as u8 - b'0'));
                bi += 1;
            }
            if an != bn {
                return an.cmp(&bn);
            }
            if ai != bi {
                return ai.cmp(&bi);
            }
            return ar[i].cmp(&br[i]);
        }
        ar.len().cmp(&br.len())
    }

    #[test]
    fn byte_walk_orders_as_the_char_walk() {
        let alphabet = ["a", "B", "z", "0", "1", "9", "-", ".", "_", "/", "é", "Z"];
        let mut keys = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..3 {
            let next: Vec<String> = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |a| format!("{s}{a}")))
                .collect();
            keys.extend(next.iter().cloned());
            last = next;
        }
        keys.extend(
            [
                "a99999999999999999999",
                "a100000000000000000000",
                "x010",
                "x0010",
                "x10",
            ]
            .map(String::from),
        );
        for a in &keys {
            for b in keys.iter().step_by(7) {
                assert_eq!(
                    natural_cmp(a, b),
                    natural_cmp_reference(a, b),
                    "{a:?} {b:?}"
                );
            }
        }
    }
}
