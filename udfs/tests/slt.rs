//! sqllogictest runner (filled in below).
fn main() {}
