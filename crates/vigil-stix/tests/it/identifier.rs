use vigil_stix::{validate_type_name, Identifier};

#[test]
fn parses_type_and_uuid() {
    let id = Identifier::parse("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f").unwrap();
    assert_eq!(id.object_type(), "indicator");
    assert_eq!(
        id.uuid().to_string(),
        "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    );
    assert_eq!(id.uuid_version(), 4);
    assert!(id.is_rfc4122());
    assert_eq!(
        id.to_string(),
        "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    );
}

#[test]
fn custom_types_with_hyphens_parse() {
    let id = Identifier::parse("x-mitre-tactic--4ca45d45-df4d-4613-8980-bac22d278fa5").unwrap();
    assert_eq!(id.object_type(), "x-mitre-tactic");
}

#[test]
fn rejects_malformed_identifiers() {
    for bad in [
        "indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f",
        "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3",
        "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3g",
        "Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "ab--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "app:id--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "",
    ] {
        let err = Identifier::parse(bad).expect_err(bad);
        assert!(
            err.to_string().contains("invalid identifier"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn type_name_rules() {
    assert!(validate_type_name("ipv4-addr").is_ok());
    assert!(validate_type_name("x-acme-widget").is_ok());
    assert!(validate_type_name("a".repeat(250).as_str()).is_ok());
    assert!(validate_type_name("a".repeat(251).as_str()).is_err());
    assert!(validate_type_name("ab").is_err());
    assert!(validate_type_name("1abc").is_err());
    assert!(validate_type_name("x_custom").is_err());
    assert!(validate_type_name("app:id").is_err());
}

#[test]
fn serde_round_trip() {
    let text = "\"malware--fdd60b30-b67c-41e3-b0b9-f01faf20d111\"";
    let id: Identifier = serde_json::from_str(text).unwrap();
    assert_eq!(serde_json::to_string(&id).unwrap(), text);
    assert!(serde_json::from_str::<Identifier>("\"nope\"").is_err());
}
