#!/usr/bin/python3
"""The OCI test server's signature check run on Oracle's published "Request Signatures"
examples (tests/vectors/oci): its signing string must equal the documented one and the
documented signatures must verify with the documented key; a changed byte must not.

  test_oci_vectors.py [VECTORS_DIR]     (default: tests/vectors/oci of this tree)
"""
import json
import os
import sys
import urllib.parse

from cryptography.hazmat.primitives import serialization

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import oci_server  # noqa: E402  (next to this file)

VECTORS = sys.argv[1] if len(sys.argv) > 1 else \
    os.path.join(here, "..", "..", "vectors", "oci")


def main():
    doc = json.load(open(os.path.join(VECTORS, "oci_cases.json")))
    key = serialization.load_pem_public_key(
        open(os.path.join(VECTORS, doc["public_key_file"]), "rb").read())
    checked = 0
    for case in doc["cases"]:
        url = urllib.parse.urlsplit(case["url"])
        target = url.path + ("?" + url.query if url.query else "")
        headers = {"host": url.netloc}
        headers.update({k.lower(): v for k, v in case["headers"]})
        headers.update({k.lower(): v for k, v in case.get("expected_added_headers", [])})
        signed = case["signed_headers"].split()
        got = oci_server.signing_string(case["method"], target, signed,
                                        lambda h: [headers[h]] if h in headers else None)
        if got != case["expected_signing_string"]:
            sys.exit("FAIL %s: signing string\n%s\n!=\n%s" % (case["name"], got,
                                                              case["expected_signing_string"]))
        if "expected_authorization" in case:
            params = oci_server.parse_authorization(case["expected_authorization"])
            if params["keyId"] != doc["key_id"] or params["headers"] != case["signed_headers"]:
                sys.exit("FAIL %s: Authorization parameters %r" % (case["name"], params))
            oci_server.verify_signature(key, params["signature"], got)
            try:
                oci_server.verify_signature(key, params["signature"], got.replace("date", "Date"))
                sys.exit("FAIL %s: a changed signing string verified" % case["name"])
            except oci_server.OciError:
                pass
            checked += 1
    if checked < 2:
        sys.exit("FAIL: only %d signatures checked" % checked)
    print("ok: %d signing strings, %d signatures from Oracle's examples" % (len(doc["cases"]),
                                                                          checked))


if __name__ == "__main__":
    main()
