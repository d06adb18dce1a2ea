#include "storage/s3/s3_xml.h"

#include <gtest/gtest.h>

namespace garret::storage::s3 {
namespace {

TEST(S3XmlTest, DecodesEntities) {
  struct Case {
    std::string_view in, out;
  };
  for (const Case& c : {
           Case{"a&amp;b", "a&b"}, Case{"&lt;&gt;&quot;&apos;", "<>\"'"},
           Case{"&#38;&#x26;&#X41;", "&&A"}, Case{"&#xe9;", "\xc3\xa9"},
           Case{"&#x1F600;", "\xf0\x9f\x98\x80"}, Case{"&unknown; & &amp", "&unknown; & &amp"},
           Case{"&#0;&#xD800;&#x110000;&#;&#x;", "&#0;&#xD800;&#x110000;&#;&#x;"},
           Case{"&amp;amp;", "&amp;"},  // decoded once
       }) {
    EXPECT_EQ(xmlDecode(c.in), c.out) << c.in;
  }
}

TEST(S3XmlTest, EscapeRoundTrips) {
  std::string text = "<a href=\"x\">&'</a>";
  EXPECT_EQ(xmlEscape(text), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;");
  EXPECT_EQ(xmlDecode(xmlEscape(text)), text);
}

TEST(S3XmlTest, ElementsWithAttributesAndEmptyOnes) {
  std::string_view xml =
      "<R xmlns=\"x\"><K>1</K><Key>a</Key><K attr=\"v\">2</K><K/><KK>no</KK></R>";
  EXPECT_EQ(xmlElements(xml, "K"), (std::vector<std::string>{"1", "2", ""}));
  EXPECT_EQ(xmlElement(xml, "Key"), "a");
  EXPECT_EQ(xmlElement(xml, "Missing"), std::nullopt);
  EXPECT_TRUE(xmlElements("<K>unterminated", "K").empty());
  EXPECT_TRUE(xmlElements("<K", "K").empty());
}

constexpr std::string_view kListPage = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>nar/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>nar/a&amp;b</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>
    <ETag>&quot;abc&quot;</ETag><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>nar/c&#x27;d</Key><Size>7</Size></Contents>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>)";

TEST(S3XmlTest, ParsesListObjectsV2Page) {
  auto page = parseListObjectsV2(kListPage);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->keys, (std::vector<std::string>{"nar/a&b", "nar/c'd"}));
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(S3XmlTest, ParsesLastAndEmptyListPages) {
  auto last = parseListObjectsV2(
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key></Contents>"
      "</ListBucketResult>");
  ASSERT_TRUE(last.ok());
  EXPECT_FALSE(last->truncated);
  EXPECT_EQ(last->keys, std::vector<std::string>{"k"});
  auto empty = parseListObjectsV2("<ListBucketResult><KeyCount>0</KeyCount></ListBucketResult>");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->keys.empty());
}

TEST(S3XmlTest, RejectsBrokenListPages) {
  // Truncated without a token would loop forever; not a list at all is an error.
  EXPECT_FALSE(
      parseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>")
          .ok());
  EXPECT_FALSE(parseListObjectsV2("<html>proxy login</html>").ok());
  EXPECT_FALSE(parseListObjectsV2("").ok());
}

TEST(S3XmlTest, ParsesUploadId) {
  auto id = parseUploadId(
      "<?xml version=\"1.0\"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
      "<UploadId>VXBsb2FkIElE&amp;x</UploadId></InitiateMultipartUploadResult>");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "VXBsb2FkIElE&x");
  EXPECT_FALSE(parseUploadId("<InitiateMultipartUploadResult/>").ok());
  EXPECT_FALSE(parseUploadId("<UploadId></UploadId>").ok());
}

TEST(S3XmlTest, ParsesErrorDocuments) {
  auto e = parseErrorBody(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code>"
      "<Message>The specified bucket does not exist</Message><BucketName>b</BucketName></Error>");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "NoSuchBucket");
  EXPECT_EQ(e->message, "The specified bucket does not exist");
  // A successful CompleteMultipartUpload is not an error; an <Error> inside it is no root.
  EXPECT_FALSE(parseErrorBody("<CompleteMultipartUploadResult><ETag>x</ETag>"
                              "</CompleteMultipartUploadResult>")
                   .has_value());
  EXPECT_FALSE(parseErrorBody("<Result><Error><Code>x</Code></Error></Result>").has_value());
  EXPECT_FALSE(parseErrorBody("").has_value());
  EXPECT_FALSE(parseErrorBody("<?xml").has_value());
  auto bare = parseErrorBody("  <Error><Code>InternalError</Code></Error>");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->code, "InternalError");
  EXPECT_EQ(bare->message, "");
}

TEST(S3XmlTest, BuildsCompleteMultipartBody) {
  EXPECT_EQ(completeMultipartBody({"\"a\"", "\"b\""}),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag>"
            "</Part><Part><PartNumber>2</PartNumber><ETag>&quot;b&quot;</ETag></Part>"
            "</CompleteMultipartUpload>");
}

}  // namespace
}  // namespace garret::storage::s3
