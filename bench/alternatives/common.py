"""Shared by the Python contenders: arguments, the three-step sign-in and the
row -> JSON mapping. Kept to the standard library so that each contender's own
HTTP client is the only difference between them."""

import argparse
import base64
import csv
import os


def parse_args(description, concurrency=False):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("csv", help="customers CSV: ext_cust_no,name,city,phone,latitude,longitude,tags")
    p.add_argument("--base-url", default=os.environ.get("SHEETLOAD_BASE_URL", "http://127.0.0.1:8080"))
    p.add_argument("--user", default=os.environ.get("SHEETLOAD_USER", "demo"))
    p.add_argument("--password", default=os.environ.get("SHEETLOAD_PASSWORD", "demo"))
    p.add_argument("--database", type=int, default=int(os.environ.get("SHEETLOAD_DATABASE", "1")))
    if concurrency:
        p.add_argument("--concurrency", type=int, default=32)
    args = p.parse_args()
    args.base_url = args.base_url.rstrip("/")
    return args


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def read_rows(path):
    # utf-8-sig: a CSV saved by Excel starts with a BOM.
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def split_tags(cell):
    """Same splitting as sheetload: on , ; and newlines, trimmed, empty and repeated dropped."""
    tags = []
    for part in cell.replace(";", ",").replace("\r", ",").replace("\n", ",").split(","):
        tag = part.strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def customer(row):
    """The POST body for one row; empty cells are left out."""
    body = {"name": row["name"].strip()}
    for field in ("ext_cust_no", "city", "phone"):
        value = row.get(field, "").strip()
        if value:
            body[field] = value
    lat, lon = row.get("latitude", "").strip(), row.get("longitude", "").strip()
    if lat and lon:
        body["location"] = {"lat": float(lat), "lon": float(lon)}
    tags = split_tags(row.get("tags", ""))
    if tags:
        body["tags"] = tags
    return body
