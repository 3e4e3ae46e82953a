//! Turkish identifiers and text: VKN, TCKN, IBAN, phone numbers, Turkish casing.
