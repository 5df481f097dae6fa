// Package amocrm is the amoCRM / Kommo connector: API v4 (HAL+JSON) on the
// account's own domain (https://SUBDOMAIN.amocrm.ru, .kommo.com or
// .amocrm.com), read incrementally by closed updated_at windows, with
// deletions from with=only_deleted (leads) and the events log (the rest).
//
// # Objects
//
//   - users: GET /api/v4/users (admin only), whole on every run; Active is
//     rights.is_active. UpdatedAt is the time of the pull (users carry no
//     modified time), so a deactivation overwrites the stored row.
//   - stages: GET /api/v4/leads/pipelines, whole on every run; Stage.ID is
//     "PIPELINE_ID:STATUS_ID" because 142 (won) and 143 (lost) repeat in
//     every pipeline; any other status is open.
//   - companies, contacts: filter[updated_at][from] (no [to]), order[id]=asc,
//     page numbers (see cursor); a server that ignores the range form is
//     asked with the single filter[updated_at] form, and one that ignores
//     both fails the run loudly; e-mail from the custom field with
//     field_code EMAIL.
//   - deals (leads, with=contacts): Deal.StageID "PIPELINE_ID:STATUS_ID";
//     amount from price in the account currency (GET /api/v4/account, once
//     per Client, unless Options.Currency); price_with_minor_units is used
//     when present and within 1 of price; company = _embedded.companies[0];
//     contact = the is_main contact, else the first. A won or lost lead
//     with closed_at null is closed at its updated_at (the best available
//     time: moving a lead to 142/143 updates it). A second phase reads
//     with=only_deleted on every run and emits Deletions; it is skipped
//     with a warning when the server refuses it (4xx) or ignores it (a
//     lead with is_deleted false), since lead_deleted events carry them too.
//   - tasks → activities "task:ID": task_type_id 1 call, 2 meeting, others
//     task; Subject = text (where "#team" lives); OccurredAt = complete_till
//     (the due date); entity_type/entity_id → DealID, ContactID or CompanyID.
//     Paged like contacts.
//   - notes → activities "note:ID", from /api/v4/{leads,contacts,companies}/notes
//     in three phases; the path says which of DealID/ContactID/CompanyID.
//     call_in/call_out: inbound/outbound calls with params.duration;
//     amomail_message: e-mail, ASSUMED inbound when params.income is true,
//     outbound when false, no direction when absent (the SDK's MailNote
//     field; not in the reference's samples); common: note with params.text.
//     Skipped as system chatter: service_message, extended_service_message,
//     message_cashier, attachment, sms_in, sms_out (UNCONFIRMED shape),
//     geolocation, invoice_paid, chat, site_visit, targeting_in/out,
//     transaction, and any unknown type.
//   - events → GET /api/v4/events, filter[created_at][from|to] window, one
//     list per type with a single filter[type] value (a comma list may be
//     read as one literal type and match nothing; each list keeps only its
//     own type, so a server ignoring the filter is fine):
//     incoming_chat_message, outgoing_chat_message
//     (message activities "event:ID", inbound/outbound; the owner of an
//     outgoing one is created_by), lead_deleted, contact_deleted,
//     company_deleted (Deletions). These type codes are UNCONFIRMED in the
//     reference; the fake lists them at /api/v4/events/types. Restores
//     (*_restored) are not read: a restored record comes back through its
//     updated_at.
//
// Activity ids are prefixed so notes, tasks and events never collide.
//
// # Paging
//
// A list ends on 204, or on a page without _links.next. An empty 200 page
// with a next link is not the end: a link back to the same page is asked
// once more, then fails the run (a stuck server); a link onwards is
// followed, and three empty pages in a row end the list (a server
// answering 200 [] past the end). A page whose records were all read
// already in this run fails the run (a server stuck on one page or
// looping), unless it repeats the last full page and a one-record probe
// at the offset after it finds nothing more (a server that clamps a page
// past the end to the last one). Either failure comes before the page's
// cursor is emitted, so the next run starts at the page not read.
//
// # Limits and errors
//
// 7 requests/s client-wide (Options.RateLimit). A 429 waits retry_after
// from the problem+json body (else a Retry-After header, else backoff). A
// 403 with a non-JSON body, or any 403 after a 429, is amoCRM's IP ban: the Client stops sending
// anything, for every object, and fails with a fatal RateLimitError. 401 is
// "authentication failed (... wrong domain or token)", 402 "account unpaid",
// a 403 problem+json on /users "the token's user is not an admin".
//
// Not read: deleted tasks and notes (the API has no feed for them), loss
// reasons, tags, If-Modified-Since.
package amocrm
