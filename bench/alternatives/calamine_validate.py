"""The Python baseline of `cargo bench --bench validate`: what a user would write to
check a customer workbook — python-calamine reads the first sheet, three checks per row
(a name, a phone number, coordinates in range), and one CSV with each row's status.

    python3 calamine_validate.py customers.xlsx out.csv
"""
import csv, re, sys
from python_calamine import CalamineWorkbook

PHONE = re.compile(r"^\+?[0-9][0-9 \-]{6,16}$")
rows = CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0).to_python()
head, body = rows[0], rows[1:]
name, phone, lat, lon = (head.index(h) for h in ("Nama", "No HP", "Lintang", "Bujur"))
with open(sys.argv[2], "w", newline="") as f:
    out = csv.writer(f)
    out.writerow(["_row", "_status", "_error"] + head)
    for i, r in enumerate(body, start=2):
        errors = []
        if not str(r[name]).strip():
            errors.append("name is required")
        if not PHONE.match(str(r[phone])):
            errors.append("phone is not a phone number")
        try:
            if not (-90 <= float(r[lat]) <= 90 and -180 <= float(r[lon]) <= 180):
                errors.append("coordinates out of range")
        except ValueError:
            errors.append("coordinates are not numbers")
        out.writerow([i, "INVALID" if errors else "VALID", "; ".join(errors)] + r)
