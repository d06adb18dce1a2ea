#include "storage/s3/s3_blob_store.h"

#include <algorithm>
#include <future>
#include <utility>

#include "storage/s3/s3_client.h"
#include "storage/s3/s3_xml.h"
#include "storage/writer_lifecycle.h"

namespace garret::storage {

namespace {

using s3::S3Client;

constexpr const char* kOctetStream = "application/octet-stream";

Status checkKey(std::string_view key) {
  if (!isValidBlobKey(key)) return invalid("invalid blob key \"" + std::string(key) + "\"");
  return okStatus();
}

S3Client::Request objectRequest(std::string_view operation, std::string_view method,
                                std::string object_key) {
  S3Client::Request r;
  r.operation = operation;
  r.method = method;
  r.object_key = std::move(object_key);
  return r;
}

class S3BlobWriter final : public BlobWriter {
 public:
  S3BlobWriter(S3Client& client, std::string object_key, std::size_t part_size)
      : client_(client),
        object_key_(std::move(object_key)),
        part_size_(part_size),
        life_("s3 object " + object_key_, [this] { release(); }) {
    buffer_.reserve(std::min<std::size_t>(part_size_, 1 << 20));
  }
  ~S3BlobWriter() override {
    if (pending_.valid()) pending_.wait();
    if (life_.state() != State::kCommitted && !upload_id_.empty()) abortUpload();
  }

  Status write(ByteSpan data) override {
    GARRET_TRY(life_.expect(State::kOpen, "write"));
    while (!data.empty()) {
      // A full part goes out only when more data follows, so that a blob of
      // exactly one part is a single PutObject.
      if (buffer_.size() == part_size_) GARRET_TRY(life_.guard(sendPart()));
      std::size_t take = std::min(part_size_ - buffer_.size(), data.size());
      buffer_.insert(buffer_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
      data = data.subspan(take);
    }
    return okStatus();
  }

  Status finish() override {
    GARRET_TRY(life_.expect(State::kOpen, "finish"));
    if (!upload_id_.empty()) {
      if (!buffer_.empty()) GARRET_TRY(life_.guard(sendPart()));
      GARRET_TRY(life_.guard(collectPending()));
    }
    life_.set(State::kFinished);
    return okStatus();
  }

  Status commit() override {
    if (life_.state() == State::kOpen) GARRET_TRY(finish());
    GARRET_TRY(life_.expect(State::kFinished, "commit"));
    GARRET_TRY(life_.guard(upload_id_.empty() ? putObject() : completeUpload()));
    life_.set(State::kCommitted);
    return okStatus();
  }

 private:
  using State = WriterLifecycle::State;

  // A failed writer waits for its part in flight, aborts its upload and
  // drops its buffer.
  void release() {
    if (pending_.valid()) pending_.wait();
    if (!upload_id_.empty()) abortUpload();
    buffer_ = {};
  }



  Status putObject() {
    auto r = objectRequest("PutObject", "PUT", object_key_);
    r.headers.push_back({"Content-Type", kOctetStream});
    r.body = ByteSpan(buffer_.data(), buffer_.size());
    GARRET_TRY(client_.send(r));
    buffer_ = {};
    return okStatus();
  }

  Status createUpload() {
    auto r = objectRequest("CreateMultipartUpload", "POST", object_key_);
    r.query.push_back({"uploads", ""});
    r.headers.push_back({"Content-Type", kOctetStream});  // the object's type
    GARRET_ASSIGN_OR_RETURN(auto response, client_.send(r));
    GARRET_ASSIGN_OR_RETURN(upload_id_, s3::parseUploadId(response.body));
    return okStatus();
  }

  // Sends the buffer as the next part in the background, once the previous
  // part is done: one part uploads while the next one fills.
  Status sendPart() {
    if (upload_id_.empty()) GARRET_TRY(createUpload());
    GARRET_TRY(collectPending());
    if (etags_.size() >= static_cast<std::size_t>(S3Options::kMaxParts)) {
      return makeError(ErrorCode::kPayloadTooLarge,
                       "s3 object " + object_key_ + " would need more than " +
                           std::to_string(S3Options::kMaxParts) + " parts; raise the part size");
    }
    int number = static_cast<int>(etags_.size()) + 1;
    pending_ = std::async(std::launch::async, [this, number, part = std::move(buffer_)] {
      return uploadPart(number, part);
    });
    buffer_ = {};
    buffer_.reserve(part_size_);
    return okStatus();
  }

  Result<std::string> uploadPart(int number, const std::vector<std::uint8_t>& part) {
    auto r = objectRequest("UploadPart", "PUT", object_key_);
    r.query.push_back({"partNumber", std::to_string(number)});
    r.query.push_back({"uploadId", upload_id_});
    r.body = ByteSpan(part.data(), part.size());
    GARRET_ASSIGN_OR_RETURN(auto response, client_.send(r));
    if (response.etag.empty()) {
      return makeError(ErrorCode::kInternal,
                       "S3 UploadPart of " + object_key_ + " returned no ETag");
    }
    return std::move(response.etag);
  }

  Status collectPending() {
    if (!pending_.valid()) return okStatus();
    GARRET_ASSIGN_OR_RETURN(std::string etag, pending_.get());
    etags_.push_back(std::move(etag));
    return okStatus();
  }

  Status completeUpload() {
    auto r = objectRequest("CompleteMultipartUpload", "POST", object_key_);
    r.query.push_back({"uploadId", upload_id_});
    std::string body = s3::completeMultipartBody(etags_);
    r.body = asBytes(body);
    auto done = client_.send(r);
    if (done.ok() || completedAnyway()) {
      upload_id_.clear();  // nothing left to abort
      return okStatus();
    }
    return done.error();
  }

  // A CompleteMultipartUpload whose response was lost may have worked: its
  // retry then fails (NoSuchUpload). The object is ours if its ETag is the
  // one S3 derives from our parts.
  bool completedAnyway() {
    auto expected = s3::multipartEtag(etags_);
    if (!expected) return false;
    auto head = client_.send(objectRequest("HeadObject", "HEAD", object_key_));
    return head.ok() && head->etag == *expected;
  }

  void abortUpload() {
    auto r = objectRequest("AbortMultipartUpload", "DELETE", object_key_);
    r.query.push_back({"uploadId", upload_id_});
    (void)client_.send(r);  // best effort; lifecycle rules clean up the rest
    upload_id_.clear();
  }

  S3Client& client_;
  const std::string object_key_;
  const std::size_t part_size_;
  std::vector<std::uint8_t> buffer_;
  std::string upload_id_;
  std::vector<std::string> etags_;
  std::future<Result<std::string>> pending_;
  WriterLifecycle life_;
};

class S3BlobReader final : public BlobReader {
 public:
  S3BlobReader(S3Client& client, std::string object_key, std::uint64_t size, std::string etag)
      : client_(client), object_key_(std::move(object_key)), size_(size), etag_(std::move(etag)) {}

  std::uint64_t size() const override { return size_; }

  Result<std::size_t> read(std::uint64_t offset, std::uint8_t* out, std::size_t length) override {
    if (offset >= size_ || length == 0) return std::size_t{0};
    length = static_cast<std::size_t>(std::min<std::uint64_t>(length, size_ - offset));
    auto r = objectRequest("GetObject", "GET", object_key_);
    r.headers.push_back(
        {"Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)});
    if (!etag_.empty()) r.headers.push_back({"If-Match", etag_});
    r.out = std::span<std::uint8_t>(out, length);
    r.range_start = offset;
    GARRET_ASSIGN_OR_RETURN(auto response, client_.send(r));
    if (response.out_bytes == 0) {
      return makeError(ErrorCode::kIo, "s3 object " + object_key_ + " ended at " +
                                           std::to_string(offset) + " of " + std::to_string(size_) +
                                           " bytes");
    }
    return response.out_bytes;
  }

 private:
  S3Client& client_;
  const std::string object_key_;
  const std::uint64_t size_;
  const std::string etag_;
};

Status checkOptions(S3Options& o) {
  if (o.bucket.empty()) return invalid("S3 bucket is not set");
  if (o.bucket.find('/') != std::string::npos) {
    return invalid("S3 bucket \"" + o.bucket + "\" must not contain '/'");
  }
  if (o.region.empty()) return invalid("S3 region is not set");
  if (o.access_key_id.empty() || o.secret_access_key.empty()) {
    return invalid(
        "S3 credentials are not set: set [storage.credentials] access_key_id and "
        "secret_access_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  if (!o.prefix.empty() && !o.prefix.ends_with('/')) o.prefix += '/';
  if (!o.prefix.empty() &&
      !isValidBlobKey(std::string_view(o.prefix).substr(0, o.prefix.size() - 1))) {
    return invalid("S3 prefix \"" + o.prefix + "\" is not made of valid key segments");
  }
  if (o.part_size < S3Options::kMinPartSize || o.part_size > S3Options::kMaxPartSize) {
    return invalid("S3 part size must be between 5 MiB and 5 GiB, got " +
                   std::to_string(o.part_size));
  }
  if (o.max_connections < 1) return invalid("S3 max connections must be at least 1");
  if (o.list_page_size < 1 || o.list_page_size > 1000) {
    return invalid("S3 list page size must be between 1 and 1000");
  }
  if (o.retry.max_attempts < 1) return invalid("S3 retry attempts must be at least 1");
  return okStatus();
}

}  // namespace

Result<std::unique_ptr<S3BlobStore>> S3BlobStore::open(S3Options options) {
  GARRET_TRY(checkOptions(options));
  GARRET_ASSIGN_OR_RETURN(auto client, S3Client::create(options));
  return std::unique_ptr<S3BlobStore>(new S3BlobStore(std::move(options), std::move(client)));
}

S3BlobStore::S3BlobStore(S3Options options, std::unique_ptr<s3::S3Client> client)
    : options_(std::move(options)), client_(std::move(client)) {}

S3BlobStore::~S3BlobStore() = default;

Result<std::unique_ptr<BlobWriter>> S3BlobStore::create(std::string_view key) {
  GARRET_TRY(checkKey(key));
  return std::unique_ptr<BlobWriter>(
      std::make_unique<S3BlobWriter>(*client_, objectKey(key), options_.part_size));
}

Result<std::unique_ptr<BlobReader>> S3BlobStore::open(std::string_view key) {
  GARRET_TRY(checkKey(key));
  std::string object_key = objectKey(key);
  GARRET_ASSIGN_OR_RETURN(auto head,
                          client_->send(objectRequest("HeadObject", "HEAD", object_key)));
  if (!head.content_length) {
    return makeError(ErrorCode::kInternal,
                     "S3 HeadObject " + object_key + " returned no Content-Length");
  }
  return std::unique_ptr<BlobReader>(std::make_unique<S3BlobReader>(
      *client_, std::move(object_key), *head.content_length, std::move(head.etag)));
}

Result<bool> S3BlobStore::exists(std::string_view key) {
  GARRET_TRY(checkKey(key));
  auto head = client_->send(objectRequest("HeadObject", "HEAD", objectKey(key)));
  if (head.ok()) return true;
  if (head.error().code == ErrorCode::kNotFound) return false;
  return std::move(head).error();
}

Status S3BlobStore::remove(std::string_view key) {
  GARRET_TRY(checkKey(key));
  auto done = client_->send(objectRequest("DeleteObject", "DELETE", objectKey(key)));
  if (done.ok() || done.error().code == ErrorCode::kNotFound) return okStatus();
  return std::move(done).error();
}

Result<std::vector<std::string>> S3BlobStore::list(std::string_view prefix) {
  if (!isValidBlobPrefix(prefix)) {
    return invalid("invalid blob prefix \"" + std::string(prefix) + "\"");
  }
  std::vector<std::string> keys;
  std::string token;
  do {
    S3Client::Request r = objectRequest("ListObjectsV2", "GET", "");
    r.query = {{"list-type", "2"},
               {"prefix", objectKey(prefix)},
               {"max-keys", std::to_string(options_.list_page_size)}};
    if (!token.empty()) r.query.push_back({"continuation-token", token});
    GARRET_ASSIGN_OR_RETURN(auto response, client_->send(r));
    GARRET_ASSIGN_OR_RETURN(s3::ListPage page, s3::parseListObjectsV2(response.body));
    for (std::string& object : page.keys) {
      if (!object.starts_with(options_.prefix)) continue;
      std::string key = object.substr(options_.prefix.size());
      if (key.starts_with(prefix) && isValidBlobKey(key)) keys.push_back(std::move(key));
    }
    if (page.truncated && page.next_token == token) {
      return makeError(ErrorCode::kInternal, "S3 ListObjectsV2 of s3://" + options_.bucket +
                                                 " repeated its continuation token");
    }
    token = page.truncated ? std::move(page.next_token) : std::string();
  } while (!token.empty());
  std::sort(keys.begin(), keys.end());
  return keys;
}

Status S3BlobStore::ping() {
  S3Client::Request r = objectRequest("ListObjectsV2", "GET", "");
  r.query = {{"list-type", "2"}, {"max-keys", "1"}};
  if (!options_.prefix.empty()) r.query.push_back({"prefix", options_.prefix});
  GARRET_ASSIGN_OR_RETURN(auto response, client_->send(r));
  GARRET_TRY(s3::parseListObjectsV2(response.body));
  return okStatus();
}

S3BlobStore::Stats S3BlobStore::stats() const {
  return Stats{client_->requestCount(), client_->retryCount()};
}

}  // namespace garret::storage
