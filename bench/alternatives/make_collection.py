#!/usr/bin/env python3
"""Writes salesmania.postman_collection.json, the newman contender of
benches/alternatives.rs. The JSON is kept in the repository; this script is how
it was made, so that a change to it is reviewable. Run: python3 make_collection.py

Shape: one request, "Create customer", run once per CSV row (newman -d). The
three-step sign-in is a collection-level pre-request script (pm.sendRequest) that
runs only while no team token is known, i.e. in the first iteration; the tokens
are kept in collection variables. An earlier version had three visible sign-in
requests skipped with pm.execution.skipRequest() from iteration 2 on: same
result, but each skipped request still costs newman a script run, about 20 ms
per row, which is not what this benchmark is about.
"""

import json

SIGN_IN = r"""// Sign in once per run (token -> databases -> team_token); later requests reuse it.
if (!pm.collectionVariables.get('team_token')) {
  const api = pm.variables.get('base_url') + '/extapi/v1.0';
  const dbId = String(pm.variables.get('db_id'));
  const fail = (step, err, res) => {
    throw new Error('sign-in failed at ' + step + ': ' + (err || (res.code + ' ' + res.text())));
  };
  pm.sendRequest({
    url: api + '/token',
    method: 'GET',
    auth: {type: 'basic', basic: [
      {key: 'username', value: pm.variables.get('user')},
      {key: 'password', value: pm.variables.get('password')},
    ]},
  }, (err, res) => {
    if (err || res.code !== 200) { fail('token', err, res); }
    const bearer = res.json().token;
    const auth = {type: 'bearer', bearer: [{key: 'token', value: bearer}]};
    pm.sendRequest({url: api + '/databases', method: 'GET', auth}, (err, res) => {
      if (err || res.code !== 200) { fail('databases', err, res); }
      if (!res.json().some(d => String(d.db_id) === dbId)) {
        throw new Error('database ' + dbId + ' is not available to this user');
      }
      pm.sendRequest({url: api + '/team_token?db_id=' + dbId, method: 'GET', auth}, (err, res) => {
        if (err || res.code !== 200) { fail('team_token', err, res); }
        pm.collectionVariables.set('bearer', bearer);
        pm.collectionVariables.set('team_token', res.json().team_token);
      });
    });
  });
}"""

TAGS = r"""// The tags cell ('Retail; Semarang') becomes a JSON array, split as sheetload splits it.
const cell = pm.iterationData.get('tags') || '';
const tags = [...new Set(cell.split(/[,;\r\n]/).map(t => t.trim()).filter(t => t))];
pm.variables.set('tags_json', JSON.stringify(tags));"""

CREATED = "pm.test('customer created', () => pm.expect(pm.response.code).to.be.oneOf([200, 201]));"

BODY = """{
  "name": "{{name}}",
  "ext_cust_no": "{{ext_cust_no}}",
  "city": "{{city}}",
  "phone": "{{phone}}",
  "location": {"lat": {{latitude}}, "lon": {{longitude}}},
  "tags": {{tags_json}}
}"""


def script(listen, text):
    return {"listen": listen, "script": {"type": "text/javascript", "exec": text.splitlines()}}


collection = {
    "info": {
        "name": "SalesMania customers import (sheetload bench contender)",
        "description": "Run with the customers CSV as iteration data: newman run "
        "salesmania.postman_collection.json -d customers.csv --env-var base_url=http://127.0.0.1:8089. "
        "The first iteration signs in (token -> databases -> team_token) in the collection's "
        "pre-request script and keeps the tokens in collection variables; every iteration "
        "creates the customer of its CSV row.",
        "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
    },
    "variable": [
        {"key": "base_url", "value": "http://127.0.0.1:8089"},
        {"key": "user", "value": "demo"},
        {"key": "password", "value": "demo"},
        {"key": "db_id", "value": "1"},
        {"key": "bearer", "value": ""},
        {"key": "team_token", "value": ""},
    ],
    "event": [script("prerequest", SIGN_IN)],
    "item": [
        {
            "name": "Create customer",
            "event": [script("prerequest", TAGS), script("test", CREATED)],
            "request": {
                "method": "POST",
                "auth": {"type": "bearer", "bearer": [
                    {"key": "token", "value": "{{bearer}}", "type": "string"}]},
                "header": [{"key": "Content-Type", "value": "application/json"}],
                "body": {"mode": "raw", "raw": BODY},
                "url": {
                    "raw": "{{base_url}}/extapi/v1.0/customers?team_token={{team_token}}",
                    "host": ["{{base_url}}"],
                    "path": ["extapi", "v1.0", "customers"],
                    "query": [{"key": "team_token", "value": "{{team_token}}"}],
                },
            },
        },
    ],
}

with open("salesmania.postman_collection.json", "w", encoding="utf-8") as f:
    json.dump(collection, f, indent=2, ensure_ascii=False)
    f.write("\n")
