use super::*;

#[test]
fn byte_sizes_parse_as_written() {
    assert_eq!("300KB".parse::<ByteSize>().unwrap(), ByteSize(300_000));
    assert_eq!("1.5 MB".parse::<ByteSize>().unwrap(), ByteSize(1_500_000));
    assert_eq!("64KiB".parse::<ByteSize>().unwrap(), ByteSize(65_536));
    assert_eq!("120000".parse::<ByteSize>().unwrap(), ByteSize(120_000));
    assert!("12 parsecs".parse::<ByteSize>().is_err());
    assert!("KB".parse::<ByteSize>().is_err());
    // Saturating to u64::MAX would read as "no limit".
    let err = "99999999999999999999GiB".parse::<ByteSize>().unwrap_err().to_string();
    assert!(err.contains("too large"), "{err}");
    assert!("18446744073709551616".parse::<ByteSize>().is_err());
}

#[test]
fn human_bytes_groups_thousands() {
    assert_eq!(human_bytes(0), "0 B");
    assert_eq!(human_bytes(999), "999 B");
    assert_eq!(human_bytes(1_234_567), "1,234,567 B");
}

#[test]
fn budget_reports_each_breach() {
    let sizes = Sizes { raw_bytes: 500, gzip_bytes: 200 };
    let budget = Budget { raw_bytes: Some(400), gzip_bytes: Some(300) };
    let breaches = check_budget(sizes, budget);
    assert_eq!(breaches, [Breach { measure: Measure::Raw, actual: 500, limit: 400 }]);
    assert_eq!(breaches[0].to_string(), "raw size 500 B is over the budget of 400 B by 100 B");
    assert!(check_budget(sizes, Budget::default()).is_empty());
    // At the limit is within budget.
    assert!(check_budget(sizes, Budget { raw_bytes: Some(500), gzip_bytes: Some(200) }).is_empty());
}

#[test]
fn deltas_show_sign_and_percent() {
    assert_eq!(Delta::between(1000, 1100).to_string(), "+100 B (+10.0%)");
    assert_eq!(Delta::between(1000, 900).to_string(), "-100 B (-10.0%)");
    assert_eq!(Delta::between(0, 5).to_string(), "+5 B");
}

#[test]
fn gzip_is_smaller_for_repetitive_input() {
    let bytes = vec![7u8; 10_000];
    assert!(gzip_len(&bytes) < 100);
}

#[test]
fn contributors_name_functions_and_data() {
    let module = wat::parse_str(
        r#"(module
            (import "env" "f" (func $imported))
            (func $small nop)
            (func $big (result i32)
                i32.const 1 i32.const 2 i32.add i32.const 3 i32.add i32.const 4 i32.add)
            (memory 1)
            (data (i32.const 0) "0123456789012345678901234567890123456789"))"#,
    )
    .unwrap();
    let items = contributors(&module, None).unwrap();
    let find = |name: &str| items.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no {name} in {items:?}"));
    assert_eq!(find("big").kind, ContributorKind::Function);
    assert!(find("big").bytes > find("small").bytes);
    assert_eq!(find("data[0]").kind, ContributorKind::Data);
    assert!(find("data[0]").bytes >= 40);
    // Largest first.
    assert!(items.windows(2).all(|w| w[0].bytes >= w[1].bytes));

    // Without a name section, names come from the map passed in.
    let stripped = crate::optimize::strip_custom_sections(&module, |_| false).unwrap();
    let names = FunctionNames::from([(2, "from-manifest".to_string())]);
    let items = contributors(&stripped, Some(&names)).unwrap();
    assert!(items.iter().any(|c| c.name == "func[1]"));
    assert!(items.iter().any(|c| c.name == "from-manifest"));
}

#[test]
fn garbage_is_an_error() {
    assert!(contributors(b"\0asm\x01\0\0\0\x01\xff", None).is_err());
}
