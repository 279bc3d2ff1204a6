//! `sops_decrypt FILE KEYFILE`: decrypts FILE with the age identities in KEYFILE and prints the
//! plaintext (a debugging aid mirroring `sops decrypt`).
use std::collections::BTreeMap;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, file, key_file] = args.as_slice() else {
        return Err("usage: sops_decrypt FILE KEYFILE".into());
    };
    let mut data = BTreeMap::new();
    data.insert("keys.agekey".to_string(), std::fs::read(key_file)?);
    let keys = ferroflux_sops::Keys::from_secret_data(&data)?;
    let input = std::fs::read(file)?;
    let out = ferroflux_sops::decrypt(
        &input,
        ferroflux_sops::Format::from_path(Path::new(file)),
        &keys,
    )?;
    use std::io::Write;
    std::io::stdout().write_all(&out)?;
    Ok(())
}
