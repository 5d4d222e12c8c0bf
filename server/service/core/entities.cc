#include "server/service/core/entities.h"

#include "absl/strings/numbers.h"
#include "storage/codec.h"
#include "storage/random.h"

namespace cohorte::service {

absl::Status CheckCohortLinks(
    const storage::Txn&, absl::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& names,
    absl::string_view collection, absl::string_view what,
    absl::string_view cohort,
    const std::function<absl::StatusOr<bool>(absl::string_view)>& exists) {
  for (const std::string& name : names) {
    absl::StatusOr<std::string> c =
        ParseCohortChildName(field, name, collection);
    bool ok = c.ok() && *c == cohort;
    if (ok && exists) {
      absl::StatusOr<bool> found = exists(name);
      if (!found.ok()) return found.status();
      ok = *found;
    }
    if (!ok) {
      return InvalidField(field, absl::StrCat(name.substr(0, 200), " is not a ",
                                              what, " of ", cohort));
    }
  }
  return absl::OkStatus();
}

std::string NextEtag(absl::string_view etag) {
  int64_t version = 0;
  if (!absl::SimpleAtoi(etag, &version) || version < 0) version = 0;
  return absl::StrCat(version + 1);
}

absl::StatusOr<int64_t> NextSequence(const storage::Txn& txn,
                                     absl::string_view prefix,
                                     absl::string_view id_prefix) {
  int64_t last = 0;
  COHORTE_RETURN_IF_ERROR(
      txn.ScanReverse(storage::Table::kEntities, prefix, "",
                      [&](absl::string_view key, absl::string_view) {
                        absl::string_view id = key.substr(prefix.size());
                        if (id.find('/') != absl::string_view::npos)
                          return true;  // a child
                        return !storage::ParseSequenceId(id_prefix, id, &last);
                      }));
  return last + 1;
}

absl::StatusOr<int64_t> NextCounter(
    storage::Txn& txn, absl::string_view name,
    const std::function<absl::StatusOr<int64_t>()>& initial) {
  const std::string key = storage::IndexKey(storage::IndexKind::kCounter, name);
  std::string value;
  uint64_t last = 0;
  absl::Status s = txn.Get(storage::Table::kIndexes, key, &value);
  if (s.ok()) {
    if (!storage::DecodeUint64BigEndian(value, &last)) {
      return absl::DataLossError(
          absl::StrCat("counter ", name, " is malformed"));
    }
  } else if (absl::IsNotFound(s)) {
    COHORTE_ASSIGN_OR_RETURN(int64_t first, initial());
    last = first > 0 ? static_cast<uint64_t>(first) : 0;
  } else {
    return s;
  }
  txn.PutIndex(key, storage::EncodeUint64BigEndian(last + 1));
  return static_cast<int64_t>(last + 1);
}

absl::StatusOr<std::vector<v1::Member>> ScanMembers(
    const storage::Txn& txn,
    const std::function<bool(const v1::Member&)>& keep) {
  std::vector<v1::Member> members;
  absl::Status decode_error;
  COHORTE_RETURN_IF_ERROR(
      txn.Scan(storage::Table::kEntities,
               storage::CollectionPrefixOf<v1::Member>("", "members"),
               [&](absl::string_view, absl::string_view value) {
                 v1::Member m;
                 decode_error = storage::DecodeValue(value, &m);
                 if (!decode_error.ok()) return false;
                 if (keep(m)) members.push_back(std::move(m));
                 return true;
               }));
  COHORTE_RETURN_IF_ERROR(decode_error);
  return members;
}

std::string GenerateId(absl::string_view prefix) {
  return absl::StrCat(prefix,
                      storage::HexEncode(storage::SecureRandomBytes(5)));
}

absl::StatusOr<PageStart> StartPage(const google::protobuf::Message& request,
                                    int page_size,
                                    absl::string_view page_token) {
  PageStart page;
  COHORTE_ASSIGN_OR_RETURN(page.size,
                           EffectivePageSize("page_size", page_size));
  page.query = RequestFingerprint(request, {"page_size", "page_token"});
  COHORTE_ASSIGN_OR_RETURN(
      page.after, DecodePageToken("page_token", page_token, page.query));
  return page;
}

}  // namespace cohorte::service
