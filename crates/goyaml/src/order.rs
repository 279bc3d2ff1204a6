//! go-yaml v2's order of mapping keys (`keyList.Less` for string keys).

use std::cmp::Ordering;

/// go-yaml v2's "natural" key order: runs of digits compare as numbers (`a9` < `a10`),
/// letters sort after other characters (`_x` < `A`), and on an equal number the shorter
/// run (fewer leading zeros) comes first.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let digit = |c: char| c.is_ascii_digit();
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
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
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && digit(ar[j - 1]) {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
