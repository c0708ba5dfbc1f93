use super::*;

#[test]
fn snake_case_handles_acronyms() {
    assert_eq!(snake_case("ConvertedToCSV"), "converted_to_csv");
    assert_eq!(snake_case("AllAssetsComputed"), "all_assets_computed");
    assert_eq!(snake_case("CSVHeaderRemoved"), "csv_header_removed");
}
