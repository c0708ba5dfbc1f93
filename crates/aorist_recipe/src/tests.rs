use super::*;
use aorist_error::ErrorKind;

#[test]
fn builtin_recipes_parse_and_cover_the_replication_flow() {
    let book = RecipeBook::builtin().unwrap();
    for constraint in [
        "Downloaded",
        "Decompressed",
        "HeaderRemoved",
        "ConvertedToCSV",
        "StoredInLake",
        "TemporaryTableCreated",
        "ConvertedToTargetEncoding",
        "TablePublished",
        "TemporaryTableDropped",
    ] {
        assert!(!book.for_constraint(constraint).is_empty(), "{constraint}");
    }
    assert!(book.runtime(Language::Python, Language::Sql).is_some());
    let download = &book.recipes[book.for_constraint("Downloaded")[&Language::Python][0]];
    assert!(download.body.starts_with("def download("));
    assert!(download.imports.iter().any(|i| i == "import hashlib"));
}

#[test]
fn malformed_headers_are_catalog_errors() {
    let cases = [
        ("python/x.py", "# [recipe]\n# constraint = 1\n"),
        ("python/x.py", "# [recipe]\n# constraint = \"A\"\n# language = \"sql\"\n# entry = \"x\"\n# summary = \"\"\n"),
        ("sql/x.sql", "-- [recipe]\n-- constraint = \"A\"\n-- language = \"sql\"\n-- entry = \"x\"\n-- summary = \"\"\n-- [recipe.parameters]\n-- t = { from = \"x\", doc = \"\" }\nSELECT 1"),
        ("python/x.py", "def f(): pass\n"),
    ];
    for (id, text) in cases {
        let error = RecipeBook::from_files([(id, text)]).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Catalog, "{id}: {text}");
    }
}

#[test]
fn unknown_language_names_the_choices() {
    let error = Language::parse("cobol").unwrap_err();
    assert_eq!(error.kind, ErrorKind::UnknownLanguage);
    assert!(error.fix.contains("python, sql, bash, r"));
}
