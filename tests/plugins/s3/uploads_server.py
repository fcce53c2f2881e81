#!/usr/bin/env python3
"""uploads_server.py -- a tiny S3 stand-in for test_uploads.sh: it answers
only ListMultipartUploads and ListParts, unsigned requests accepted, on
pages smaller than asked for (moto ignores max-uploads and encoding-type),
so that the plugin's paging, URL-decoding and loop guards are exercised.

  uploads_server.py PORTFILE LOGFILE

Buckets: "pages" (three uploads, one a page, keys URL-encoded, one begun
long ago with a part written now), "loop" (a truncated page whose next
markers repeat the ones asked with), "partloop" (one upload whose ListParts
repeats its NextPartNumberMarker). Every request is logged, one line:
METHOD PATH?QUERY.
"""
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OLD = "2010-11-10T20:48:33.000Z"
NOW = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
# key (raw), upload id, initiated, newest part's time
PAGES = [("a b+c.bin", "id-1", OLD, OLD),
         ("dir/\u00e9t\u00e9.bin", "id-2", OLD, NOW),
         ("z%z.bin", "id-3", NOW, NOW)]
LOG = None


def enc(s):
    return urllib.parse.quote(s, safe="/")


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, code, body):
        data = ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        LOG.write("GET %s\n" % self.path)
        LOG.flush()
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        parts = u.path.lstrip("/").split("/", 1)
        bucket = parts[0]
        if len(parts) == 1 and "uploads" in q:
            return self.uploads(bucket, q)
        if len(parts) == 2 and "uploadId" in q:
            return self.parts(bucket, q)
        self.reply(400, "<Error><Code>InvalidRequest</Code></Error>")

    def uploads(self, bucket, q):
        if "max-uploads" not in q:
            return self.reply(400, "<Error><Code>InvalidRequest</Code>"
                              "<Message>no max-uploads</Message></Error>")
        coded = q.get("encoding-type") == "url"
        name = (lambda k: enc(k)) if coded else (lambda k: k)
        head = "<ListMultipartUploadsResult><Bucket>%s</Bucket>" % bucket
        if coded:
            head += "<EncodingType>url</EncodingType>"
        if bucket == "loop":
            return self.reply(200, head + "<IsTruncated>true</IsTruncated>"
                              "<NextKeyMarker>a</NextKeyMarker>"
                              "<NextUploadIdMarker>x</NextUploadIdMarker>"
                              "<Upload><Key>a</Key><UploadId>x</UploadId>"
                              "<Initiated>%s</Initiated></Upload>"
                              "</ListMultipartUploadsResult>" % NOW)
        items = PAGES if bucket == "pages" else [("p.bin", "id-p", NOW, NOW)]
        marker = q.get("key-marker", "")
        rest = [i for i in items if i[0] > marker] if marker else items
        page, more = rest[:1], len(rest) > 1
        body = head + "<IsTruncated>%s</IsTruncated>" % str(more).lower()
        if more:
            body += ("<NextKeyMarker>%s</NextKeyMarker><NextUploadIdMarker>"
                     "%s</NextUploadIdMarker>" % (name(page[0][0]), page[0][1]))
        for k, i, t, _ in page:
            body += ("<Upload><Key>%s</Key><UploadId>%s</UploadId><Initiated>"
                     "%s</Initiated></Upload>" % (name(k), i, t))
        self.reply(200, body + "</ListMultipartUploadsResult>")

    def parts(self, bucket, q):
        uid = q["uploadId"]
        marker = int(q.get("part-number-marker", "0"))
        if bucket == "partloop":
            return self.reply(200, "<ListPartsResult><IsTruncated>true"
                              "</IsTruncated><NextPartNumberMarker>1"
                              "</NextPartNumberMarker><Part><PartNumber>1"
                              "</PartNumber><LastModified>%s</LastModified>"
                              "</Part></ListPartsResult>" % NOW)
        times = {i: (t0, t1) for _, i, t0, t1 in PAGES}
        t0, t1 = times.get(uid, (NOW, NOW))
        # Two parts, one a page: the newest on the second page.
        if marker == 0:
            body = ("<IsTruncated>true</IsTruncated><NextPartNumberMarker>1"
                    "</NextPartNumberMarker><Part><PartNumber>1</PartNumber>"
                    "<LastModified>%s</LastModified></Part>" % t0)
        else:
            body = ("<IsTruncated>false</IsTruncated><Part><PartNumber>2"
                    "</PartNumber><LastModified>%s</LastModified></Part>" % t1)
        self.reply(200, "<ListPartsResult>%s</ListPartsResult>" % body)


def main():
    global LOG
    LOG = open(sys.argv[2], "a")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
