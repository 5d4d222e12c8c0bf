// File: server/service/core/limits.h
//
// Every size and count limit of the API, in one place. The protos' comments
// and the README quote these numbers; tests check each at and past its
// bound. Lengths of text are in Unicode code points.
#ifndef COHORTE_SERVER_SERVICE_CORE_LIMITS_H_
#define COHORTE_SERVER_SERVICE_CORE_LIMITS_H_

#include <cstdint>

namespace cohorte::service {

// Resource ids (RFC-1034 labels, AIP-122).
inline constexpr int kMaxResourceIdLength = 63;
// AIP-155 request ids: printable ASCII.
inline constexpr int kMaxRequestIdLength = 64;
// List pagination (AIP-158).
inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 1000;
// Page tokens are opaque strings of bounded size.
inline constexpr int kMaxPageTokenLength = 1024;
// The `authorization` metadata value.
inline constexpr int kMaxAuthorizationLength = 512;

// Cohort fields.
inline constexpr int kMaxCohortDisplayNameChars = 200;
inline constexpr int kMaxCohortRegionChars = 100;
inline constexpr int kMaxCohortProgrammeChars = 200;
inline constexpr int kMaxCohortDescriptionChars = 4000;
inline constexpr int kMinYear = 1900;
inline constexpr int kMaxYear = 9999;

// Member fields.
inline constexpr int kMaxPersonNameChars = 100;
inline constexpr int kMaxEmailLength = 254;
inline constexpr int kMaxOrganisationChars = 200;
inline constexpr int kMaxDelegationsPerMember = 8;
inline constexpr int kMaxCohortsPerMember = 32;
inline constexpr int kMaxTokenDisplayNameChars = 100;
// A personal token lives at most this long when it has an expiry.
inline constexpr int kMaxTokenLifetimeDays = 366;

// Service tokens: the cohorts one may reach.
inline constexpr int kMaxServiceTokenCohorts = 32;

// Invitations: lifetime, by default and at most.
inline constexpr int kDefaultInvitationLifetimeDays = 14;
inline constexpr int kMaxInvitationLifetimeDays = 30;

// Territory fields.
inline constexpr int kMaxTerritoryDisplayNameChars = 200;
inline constexpr int kMaxPhaseNoteChars = 2000;

// Chantier fields.
inline constexpr int kMaxChantierDisplayNameChars = 200;
inline constexpr int kMaxChantierDescriptionChars = 4000;
inline constexpr int kMaxChantierCarriers = 20;

// Peer group fields.
inline constexpr int kMaxGroupDisplayNameChars = 200;
inline constexpr int kMaxGroupDescriptionChars = 2000;
inline constexpr int kMaxGroupMembers = 500;
inline constexpr int kMaxGroupFacilitators = 10;

// Exchanges and messages.
inline constexpr int kMaxExchangeTitleChars = 200;
inline constexpr int kMaxMessageBodyChars = 20000;
inline constexpr int kMaxAttachmentsPerMessage = 10;
// Référentiel tags on an exchange or a report.
inline constexpr int kMaxTagsPerItem = 10;

// Experience reports.
inline constexpr int kMaxReportTitleChars = 200;
inline constexpr int kMaxReportNarrativeChars = 10000;
inline constexpr int kMaxReportAuthors = 10;
inline constexpr int kMaxReportThemes = 10;
inline constexpr int kMaxThemeChars = 50;
inline constexpr int kMaxReportLinks = 20;

// Sessions.
inline constexpr int kMaxSessionTitleChars = 200;
inline constexpr int kMaxSessionDescriptionChars = 4000;
inline constexpr int kMaxSessionPlaceChars = 300;
inline constexpr int kMaxSessionCapacity = 10000;
inline constexpr int kMaxSessionDays = 31;
inline constexpr int kMaxSessionLinks = 20;
inline constexpr int kMaxSessionMinutesChars = 20000;

// Shared records.
inline constexpr int kMaxRecordTitleChars = 200;
inline constexpr int kMaxRecordDescriptionChars = 4000;
inline constexpr int kMaxRecordLinks = 20;
inline constexpr int kMaxRecordFileNameChars = 255;
inline constexpr int kMaxRecordNoteChars = 1000;
inline constexpr int kMaxMediaTypeChars = 127;
// One chunk of an upload or a download: far below the gRPC message limit.
inline constexpr int64_t kMaxRecordChunkBytes = 1 << 20;
// The most bytes of an upload written and committed at once: a stream's
// chunks are read ahead and committed in batches of up to this much (one
// flush of the chunks, one small commit), and a stream holds at most twice
// this (the batch being written, the one read ahead).
inline constexpr int64_t kMaxUploadBatchBytes = int64_t{8} << 20;
// How much of a stream's upload is made durable and committed at once: its
// batches go to one table file, fsynced and ingested with one small commit
// per this many bytes (and at the end of the stream), so the fixed cost of
// a commit (four fsyncs) is paid per 64 MiB, not per batch, while memory
// holds one batch. What a cut stream sent past its last commit is sent
// again.
inline constexpr int64_t kUploadCommitBytes = int64_t{64} << 20;
// How much of a version's content a download reads ahead, through the
// gate once, while it sends what it read before.
inline constexpr int64_t kMaxDownloadReadAheadBytes = int64_t{4} << 20;
// No chunk is written to an upload that expires within this margin, so
// that the garbage collector, which deletes an expired upload's chunks,
// never runs while a write is still putting chunks there.
inline constexpr int64_t kUploadWriteMarginMinutes = 10;
// Defaults of cohorted's --max-record-mb and --cohort-quota-mb.
inline constexpr int64_t kDefaultMaxRecordBytes = int64_t{2} << 30;
inline constexpr int64_t kDefaultCohortQuotaBytes = int64_t{50} << 30;
// An upload session expires this long after it starts; a deleted record
// is purged (its versions' content freed) this long after its deletion.
inline constexpr int64_t kUploadLifetimeHours = 24;
inline constexpr int64_t kRecordPurgeDays = 30;

// Moderation.
inline constexpr int kMaxFlagNoteChars = 1000;
inline constexpr int kMaxHiddenReasonChars = 1000;

// The change feed.
inline constexpr int kDefaultChangesPageSize = 100;
inline constexpr int kMaxChangesPageSize = 1000;
inline constexpr int kMaxCursorLength = 100;
inline constexpr int kMaxFeedFilterCohorts = 20;
inline constexpr int kMaxFeedFilterTypes = 20;
inline constexpr int kMaxFeedNamePrefixChars = 500;
// Change-log records one ListChanges call looks at, visible or not: a page
// may end short of page_size (with caught_up false) to bound its time.
inline constexpr int kMaxChangesScannedPerCall = 10000;
// Events in one Watch response.
inline constexpr int kMaxWatchEventsPerResponse = 500;
// Resources in one ListSnapshot page.
inline constexpr int kDefaultSnapshotPageSize = 500;
inline constexpr int kMaxSnapshotPageSize = 1000;

// Links (replication between instances).
inline constexpr int kMaxLinks = 32;
inline constexpr int kMaxLinkDisplayNameChars = 100;
inline constexpr int kMaxLinkEndpointLength = 255;
inline constexpr int kMaxLinkPemBytes = 64 * 1024;
// Followed cohorts per link: what one ChangeFilter holds.
inline constexpr int kMaxLinkCohorts = kMaxFeedFilterCohorts;
// Events a link applies per mutation (one snapshot page, one Watch
// response).
inline constexpr int kMaxLinkBatch = 1000;
// A cohort bundle's events.pb (ImportCohort): at most this many bytes, in
// stream messages of at most kMaxImportChunkBytes; applied in one mutation.
inline constexpr int64_t kMaxImportEventsBytes = 64 * 1024 * 1024;
inline constexpr int kMaxImportChunkBytes = 1024 * 1024;

// Backups: the most cohorted's --backup-keep may keep, so that ListBackups
// answers in one page.
inline constexpr int kMaxBackupsKept = 100;

// Webhooks.
inline constexpr int kMaxWebhookUrlLength = 2048;
inline constexpr int kMaxWebhookDisplayNameChars = 100;
inline constexpr int kMaxWebhookFilterTypes = 20;
// The delivery log keeps this many attempts per webhook, the oldest dropped.
inline constexpr int kMaxWebhookDeliveriesKept = 100;
// Events pulled from the feed per step of one webhook.
inline constexpr int kWebhookFeedPageSize = 50;
// Retries after a failed delivery wait 1 s, doubling up to 10 min.
inline constexpr int kWebhookFirstBackoffSeconds = 1;
inline constexpr int kWebhookMaxBackoffSeconds = 600;
// Default of --webhook-pause-after: a webhook failing this long is paused.
inline constexpr int kWebhookPauseAfterSeconds = 24 * 3600;
// One POST: connect within 3 s, done within 10 s.
inline constexpr int kWebhookConnectTimeoutMs = 3000;
inline constexpr int kWebhookRequestTimeoutMs = 10000;
// A webhook whose feed moves on with nothing to deliver has its cursor
// saved when it is this many revisions or this long behind, so that a
// quiet webhook's cursor stays within the change log's retention.
inline constexpr int kWebhookCursorSaveRevisions = 10000;
inline constexpr int kWebhookCursorSaveSeconds = 3600;
// Error texts kept in the delivery log are cut to this length.
inline constexpr int kMaxWebhookErrorChars = 300;

}  // namespace cohorte::service

#endif  // COHORTE_SERVER_SERVICE_CORE_LIMITS_H_
