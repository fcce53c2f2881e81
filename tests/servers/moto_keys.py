#!/usr/bin/env python3
"""Give a fresh moto server one working key pair and switch SigV4 checking on.

  moto_keys.py ENDPOINT KEYS_FILE

Run with the Python that has moto (and therefore boto3). moto starts with IAM
authentication off (INITIAL_NO_AUTH_ACTION_COUNT unset = infinite), and once it is
on it only accepts access keys that exist in its IAM backend. So, while auth is
still off: create IAM user "xtstore-test" with an inline allow-everything policy
and an access key; then POST 0 to /moto-api/reset-auth, which makes every later
request go through signature verification and IAM. Finally check that the key
works and that a wrong secret gets 403 SignatureDoesNotMatch. Writes
"ACCESS SECRET" to KEYS_FILE.
"""
import json
import os
import sys
import urllib.request

import boto3
import botocore.config
import botocore.exceptions


def client(endpoint, service, access, secret):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        config=botocore.config.Config(
            retries={"max_attempts": 1},
            s3={"addressing_style": "path"},
            connect_timeout=5,
            read_timeout=20,
        ),
    )


def main(endpoint, keys_file):
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(var, None)
    iam = client(endpoint, "iam", "bootstrap", "bootstrap")
    user = "xtstore-test"
    iam.create_user(UserName=user)
    iam.put_user_policy(
        UserName=user,
        PolicyName="allow-all",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName=user)["AccessKey"]
    access, secret = key["AccessKeyId"], key["SecretAccessKey"]

    req = urllib.request.Request(
        endpoint + "/moto-api/reset-auth",
        data=b"0",
        method="POST",
        # not form-encoded, or Flask swallows the body into request.form
        headers={"Content-Type": "application/octet-stream"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()

    client(endpoint, "s3", access, secret).list_buckets()
    try:
        client(endpoint, "s3", access, secret[:-1] + ("A" if secret[-1] != "A" else "B")).list_buckets()
    except botocore.exceptions.ClientError as e:
        code = e.response["Error"]["Code"]
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        if (status, code) != (403, "SignatureDoesNotMatch"):
            sys.exit(f"moto_keys: a wrong secret got {status} {code}, not 403 SignatureDoesNotMatch")
    else:
        sys.exit("moto_keys: a wrong secret was accepted: IAM auth is not on")

    tmp = keys_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{access} {secret}\n")
    os.replace(tmp, keys_file)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
