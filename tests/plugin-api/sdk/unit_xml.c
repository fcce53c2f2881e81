/*
** unit_xml.c -- the expat tree: S3 and Azure listing samples (namespaces,
** attributes, empty elements, entities), errors with line numbers, the
** depth limit, entity declarations refused, paths and escaping.
*/
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "sdk_xml.h"

static sdk_xml_node *parse_ok(const char *xml)
{
  sdk_xml_node *root = NULL;
  store_error e;

  UNIT_ERR(e);
  assert_int_equal(sdk_xml_parse(xml, strlen(xml), &root, &e), STORE_OK);
  assert_non_null(root);
  return root;
}

/* Parse must fail; the message must contain `want`. */
static void parse_fails(const char *xml, const char *want)
{
  sdk_xml_node *root = (sdk_xml_node *)&root;
  store_error e;

  UNIT_ERR(e);
  assert_int_equal(sdk_xml_parse(xml, strlen(xml), &root, &e),
                   STORE_E_INTERNAL);
  assert_null(root);
  assert_int_equal(e.code, STORE_E_INTERNAL);
  if (!strstr(e.message, want))
    fail_msg("message '%s' lacks '%s'", e.message, want);
}

static const char s3_list[] =
  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
  "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
  "  <Name>bucket</Name>\n"
  "  <Prefix>photos/</Prefix>\n"
  "  <KeyCount>2</KeyCount>\n"
  "  <MaxKeys>1000</MaxKeys>\n"
  "  <Delimiter>/</Delimiter>\n"
  "  <IsTruncated>true</IsTruncated>\n"
  "  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
  "</NextContinuationToken>\n"
  "  <Contents>\n"
  "    <Key>photos/a &amp; b.jpg</Key>\n"
  "    <LastModified>2009-10-12T17:50:30.000Z</LastModified>\n"
  "    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>\n"
  "    <Size>434234</Size>\n"
  "    <StorageClass>STANDARD</StorageClass>\n"
  "    <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f</ID>"
  "<DisplayName>me</DisplayName></Owner>\n"
  "  </Contents>\n"
  "  <Contents>\n"
  "    <Key>photos/ caf&#xE9; .jpg </Key>\n"
  "    <Size>0</Size>\n"
  "  </Contents>\n"
  "  <CommonPrefixes><Prefix>photos/2006/</Prefix></CommonPrefixes>\n"
  "</ListBucketResult>\n";

static void test_s3_listing(void **state)
{
  sdk_xml_node *root = parse_ok(s3_list), *c, *c2;

  (void)state;
  assert_string_equal(sdk_xml_name(root), "ListBucketResult");
  assert_string_equal(sdk_xml_child_text(root, "Name"), "bucket");
  assert_string_equal(sdk_xml_child_text(root, "IsTruncated"), "true");
  assert_string_equal(sdk_xml_child_text(root, "NextContinuationToken"),
                      "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  assert_null(sdk_xml_child_text(root, "StartAfter"));

  c = sdk_xml_child(root, "Contents");
  assert_non_null(c);
  assert_string_equal(sdk_xml_child_text(c, "Key"), "photos/a & b.jpg");
  assert_string_equal(sdk_xml_child_text(c, "ETag"),
                      "\"fba9dede5f27731c9771645a39863328\"");
  assert_string_equal(sdk_xml_child_text(c, "Size"), "434234");
  assert_string_equal(sdk_xml_text(sdk_xml_path(c, "Owner/ID")),
                      "75aa57f09aa0c8caeab4f8c24e99d10f");

  c2 = sdk_xml_next(c, "Contents");
  assert_non_null(c2);
  /* Whitespace inside a key is data; character references decode. */
  assert_string_equal(sdk_xml_child_text(c2, "Key"),
                      "photos/ caf\xc3\xa9 .jpg ");
  assert_null(sdk_xml_next(c2, "Contents"));

  assert_string_equal(sdk_xml_text(sdk_xml_path(root, "CommonPrefixes/Prefix")),
                      "photos/2006/");
  /* The first child of any name, and siblings of any name. */
  assert_string_equal(sdk_xml_name(sdk_xml_child(root, NULL)), "Name");
  c = sdk_xml_child(root, NULL);
  assert_string_equal(sdk_xml_name(sdk_xml_next(c, NULL)), "Prefix");
  sdk_xml_free(root);
}

static void test_prefixed_namespaces(void **state)
{
  const char *xml =
    "<s3:ListBucketResult xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\""
    " xmlns:x=\"urn:x\" x:flag=\"on\" plain=\"1\">"
    "<s3:Contents><s3:Key>k</s3:Key></s3:Contents>"
    "</s3:ListBucketResult>";
  sdk_xml_node *root = parse_ok(xml);

  (void)state;
  assert_string_equal(sdk_xml_name(root), "ListBucketResult");
  assert_string_equal(sdk_xml_text(sdk_xml_path(root, "Contents/Key")), "k");
  assert_string_equal(sdk_xml_attr(root, "flag"), "on");
  assert_string_equal(sdk_xml_attr(root, "plain"), "1");
  /* Namespace declarations are not attributes. */
  assert_null(sdk_xml_attr(root, "xmlns"));
  sdk_xml_free(root);
}

static const char azure_list[] =
  "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?>"
  "<EnumerationResults"
  " ServiceEndpoint=\"https://myaccount.blob.core.windows.net/\""
  " ContainerName=\"mycontainer\">"
  "<Prefix /><Marker/><MaxResults>2</MaxResults><Delimiter>/</Delimiter>"
  "<Blobs>"
  "<Blob><Name>a &lt;1&gt; &amp; &apos;b&apos;.txt</Name>"
  "<Snapshot>2011-03-09T01:42:34.9360000Z</Snapshot>"
  "<Properties><Last-Modified>Wed, 09 Sep 2009 09:20:02 GMT</Last-Modified>"
  "<Etag>0x8CBFF45D8A29A19</Etag><Content-Length>11</Content-Length>"
  "<Content-Type></Content-Type><Content-MD5 /></Properties>"
  "<Metadata><Color>blue</Color><Size>large</Size></Metadata></Blob>"
  "<BlobPrefix><Name>dir/</Name></BlobPrefix>"
  "</Blobs>"
  "<NextMarker />"
  "</EnumerationResults>";

static void test_azure_listing(void **state)
{
  sdk_xml_node *root = parse_ok(azure_list), *blob, *props, *md, *m;

  (void)state;
  assert_string_equal(sdk_xml_name(root), "EnumerationResults");
  assert_string_equal(sdk_xml_attr(root, "ServiceEndpoint"),
                      "https://myaccount.blob.core.windows.net/");
  assert_string_equal(sdk_xml_attr(root, "ContainerName"), "mycontainer");
  assert_null(sdk_xml_attr(root, "containername")); /* case matters */
  /* Empty elements exist and have empty text. */
  assert_non_null(sdk_xml_child(root, "Prefix"));
  assert_string_equal(sdk_xml_child_text(root, "Marker"), "");
  assert_string_equal(sdk_xml_child_text(root, "NextMarker"), "");

  blob = sdk_xml_path(root, "Blobs/Blob");
  assert_non_null(blob);
  assert_string_equal(sdk_xml_child_text(blob, "Name"), "a <1> & 'b'.txt");
  props = sdk_xml_child(blob, "Properties");
  assert_string_equal(sdk_xml_child_text(props, "Content-Length"), "11");
  assert_string_equal(sdk_xml_child_text(props, "Content-Type"), "");
  assert_string_equal(sdk_xml_child_text(props, "Content-MD5"), "");
  md = sdk_xml_child(blob, "Metadata");
  m = sdk_xml_child(md, NULL);
  assert_string_equal(sdk_xml_name(m), "Color");
  assert_string_equal(sdk_xml_text(m), "blue");
  m = sdk_xml_next(m, NULL);
  assert_string_equal(sdk_xml_name(m), "Size");
  assert_null(sdk_xml_next(m, NULL));
  assert_string_equal(
    sdk_xml_text(sdk_xml_path(root, "Blobs/BlobPrefix/Name")), "dir/");
  sdk_xml_free(root);
}

static void test_text_concatenated(void **state)
{
  sdk_xml_node *root = parse_ok("<a>x<b>inner</b>y<![CDATA[<z>]]></a>");

  (void)state;
  assert_string_equal(sdk_xml_text(root), "xy<z>");
  assert_string_equal(sdk_xml_child_text(root, "b"), "inner");
  sdk_xml_free(root);
}

static void test_path(void **state)
{
  sdk_xml_node *root =
    parse_ok("<r><a><b>1</b><b>2</b></a><a><c>3</c></a></r>");

  (void)state;
  assert_ptr_equal(sdk_xml_path(root, ""), root);
  assert_string_equal(sdk_xml_text(sdk_xml_path(root, "a/b")), "1");
  assert_string_equal(sdk_xml_text(sdk_xml_path(root, "/a//b/")), "1");
  /* Each step takes the FIRST child of that name. */
  assert_null(sdk_xml_path(root, "a/c"));
  assert_null(sdk_xml_path(root, "nope"));
  assert_null(sdk_xml_path(root, "a/b/deeper"));
  assert_null(sdk_xml_path(root, "a/bb"));
  assert_null(sdk_xml_path(root, "a/B")); /* names are case-sensitive */
  sdk_xml_free(root);
}

static void test_malformed_with_line(void **state)
{
  (void)state;
  parse_fails("<a>\n<b>\n</a>\n", "malformed XML at line 3: mismatched tag");
  parse_fails("", "malformed XML at line 1: no element found");
  parse_fails("<a>\n\n\n<b x=1/></a>", "malformed XML at line 4");
  parse_fails("<a>&bogus;</a>", "undefined entity");
  parse_fails("<p:a/>", "unbound prefix");
  parse_fails("<a></a><b/>", "junk after document element");
}

static void nested(char *buf, size_t cap, int depth)
{
  size_t n = 0;
  int i;

  for (i = 0; i < depth; i++)
    n += (size_t)snprintf(buf + n, cap - n, "<e>");
  for (i = 0; i < depth; i++)
    n += (size_t)snprintf(buf + n, cap - n, "</e>");
}

static void test_depth_limit(void **state)
{
  char buf[2048];
  sdk_xml_node *root;

  (void)state;
  nested(buf, sizeof(buf), 64);
  root = parse_ok(buf);
  sdk_xml_free(root);
  nested(buf, sizeof(buf), 65);
  parse_fails(buf, "deeper than 64");
}

static void test_entity_declarations_refused(void **state)
{
  (void)state;
  parse_fails("<?xml version=\"1.0\"?>\n"
              "<!DOCTYPE lolz [\n"
              " <!ENTITY lol \"lol\">\n"
              " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
              " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
              "]>\n<lolz>&lol3;</lolz>",
              "entity declarations are not allowed");
  parse_fails("<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
              "<a>&x;</a>",
              "entity declarations are not allowed");
  /* Predefined entities and character references are fine. */
  sdk_xml_free(parse_ok("<a>&lt;&gt;&amp;&quot;&apos;&#65;&#x42;</a>"));
}

static void test_escape(void **state)
{
  sdk_buf b = SDK_BUF_INIT;

  (void)state;
  assert_int_equal(sdk_xml_escape(&b, "a&b<c>\"d'e"), 0);
  assert_string_equal(sdk_buf_str(&b), "a&amp;b&lt;c&gt;&quot;d&apos;e");
  sdk_buf_reset(&b);
  assert_int_equal(sdk_xml_escape(&b, ""), 0);
  assert_int_equal(sdk_xml_escape(&b, "plain"), 0);
  assert_string_equal(sdk_buf_str(&b), "plain");
  sdk_buf_free(&b);
}

int unit_xml(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_s3_listing),
    cmocka_unit_test(test_prefixed_namespaces),
    cmocka_unit_test(test_azure_listing),
    cmocka_unit_test(test_text_concatenated),
    cmocka_unit_test(test_path),
    cmocka_unit_test(test_malformed_with_line),
    cmocka_unit_test(test_depth_limit),
    cmocka_unit_test(test_entity_declarations_refused),
    cmocka_unit_test(test_escape),
  };

  return cmocka_run_group_tests_name("sdk_xml", tests, NULL, NULL);
}
