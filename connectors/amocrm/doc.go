// Package amocrm is the amoCRM / Kommo connector: API v4 (HAL+JSON) on the
// account's own domain (https://SUBDOMAIN.amocrm.ru, .kommo.com or
// .amocrm.com), read incrementally by closed updated_at windows, with
// deletions from with=only_deleted (leads) and the events log (the rest).
//
// # Objects
//
//   - users: GET /api/v4/users (admin only), whole on every run; Active is
//     rights.is_active (false for a deactivated user; absent means active,
//     since the API lists active users). UpdatedAt is the time of the pull
//     (users carry no modified time), so a deactivation overwrites the
//     stored row.
//   - stages: GET /api/v4/leads/pipelines, whole on every run; Stage.ID is
//     "PIPELINE_ID:STATUS_ID" because 142 (won) and 143 (lost) repeat in
//     every pipeline; any other status is open.
//   - companies, contacts: filter[updated_at][from] (no [to]), order[id]=asc,
//     page numbers (see cursor); a server that ignores the range form is
//     asked with the single filter[updated_at] form, and one that ignores
//     both fails the run loudly. A validation error (400, 422) drops
//     order[id] (documented for leads only), then takes the single form,
//     the list restarting each time. E-mail from the custom field with
//     field_code EMAIL.
//   - deals (leads, with=contacts): Deal.StageID "PIPELINE_ID:STATUS_ID";
//     amount from price in the account currency (GET /api/v4/account, once
//     per Client and shared with the tasks' type names, unless
//     Options.Currency; an account naming none, or a 4xx from the
//     endpoint, leaves Currency "" with one warning, so the deals are
//     stored and counted but left out of money KPIs); price_with_minor_units is used
//     when present and within 1 of price; company = _embedded.companies[0];
//     contact = the is_main contact, else the first. A won or lost lead
//     with closed_at null is closed at its updated_at (the best available
//     time: moving a lead to 142/143 updates it). A second phase reads
//     with=only_deleted on every run and emits Deletions; it is skipped
//     with a warning when the server refuses it (4xx) or ignores it (a
//     lead with is_deleted false, or a whole lead, with status_id, and no
//     is_deleted), since lead_deleted events carry them too.
//   - tasks → activities "task:ID" of type task, whatever their
//     task_type_id (1 follow-up, the default of every new task; 2 meeting;
//     custom ids): a task is a to-do, never a call or a meeting that
//     happened, so it costs what a task costs and never answers a client.
//     Subject = text (where "#team" lives); OccurredAt = complete_till
//     (the due date); Completed = is_completed; entity_type/entity_id →
//     DealID, ContactID or CompanyID. Paged like contacts. The type id
//     stays in the raw record as amoCRM sent it; its name, from GET
//     /api/v4/account?with=task_types (_embedded.task_types, a list of
//     {id, name, color, icon_id, code}; read once per Client in the same
//     request as the currency), is added to the raw object as its last
//     key, "crmkpi_task_type_name", every byte amoCRM sent kept before it
//     (on PostgreSQL, jsonb keeps the same JSON value, as for every raw
//     record). Adding one namespaced key was chosen over wrapping the
//     record in an envelope, which would move every path analysts query
//     (raw->>'text'), and over storing nothing, since no table holds the
//     account's task types. Without the name (an id the account does not
//     list, an account without task types, or an account read that failed:
//     one warning, the tasks still stored), the raw record is exactly as
//     sent; look the id up in account?with=task_types.
//   - notes → activities "note:ID", from /api/v4/{leads,contacts,companies}/notes
//     in three phases; the path says which of DealID/ContactID/CompanyID.
//     OwnerID is responsible_user_id, else created_by; OccurredAt is
//     created_at.
//     call_in/call_out: inbound/outbound calls with params.duration and
//     Subject params.call_result; Connected from params.call_status (SDK
//     CallInterface): 4 talked → true; 1 left a voicemail, 2 call back
//     later, 3 not available, 5 wrong number, 6 no answer, 7 busy →
//     false; absent, 8 (undefined) or any other value → nil (the CRM does
//     not say). An unanswered dial stays a call: it costs, but answers
//     nobody. call_result is free text and decides nothing.
//     amomail_message: e-mail, ASSUMED inbound when params.income is true,
//     outbound when false, no direction when absent (the SDK's MailNote
//     field; not in the reference's samples); Subject params.subject, else
//     params.content_summary.
//     sms_in/sms_out: messages, inbound/outbound, Subject params.text (SDK
//     SmsNote: params text and phone).
//     common: note with params.text.
//     Skipped as system chatter: service_message, extended_service_message,
//     message_cashier, attachment, geolocation, invoice_paid, chat,
//     site_visit, targeting_in/out, transaction, and any unknown type.
//   - events → GET /api/v4/events, filter[created_at][from|to] window, every
//     type below in one list: filter[type] is a comma list (reference §4,
//     the SDK's EventsFilter, Kommo's events list), paged normally, each
//     event still checked to be of a wanted type (a server ignoring the
//     filter costs pages, not records):
//     incoming_chat_message, outgoing_chat_message
//     (message activities "event:ID", inbound/outbound; the owner of an
//     outgoing one is created_by, an incoming one has none), lead_deleted,
//     contact_deleted, company_deleted (Deletions), and lead_restored,
//     contact_restored, company_restored: the record is read again by id
//     (GET /api/v4/{leads,contacts,companies}/ID) and emitted with an
//     UpdatedAt no earlier than the restore, since the reference does not
//     say a restore bumps updated_at and without it the stored deletion
//     would stand; a deletion before the restore on the same page is
//     dropped, and a record gone again (204, 404, is_deleted) is left to
//     its next deletion event. An account that read the
//     comma list as one literal type would answer nothing, and nothing in
//     an empty answer tells it from a quiet window; so until a comma list
//     has brought an event, a window it leaves empty is read again one type
//     per request (the single-value form of the reference's sample, §6.4).
//     The first form that brings an event is kept in the cursor
//     ("types":"list" or "each"), so a confirmed account costs one request
//     per 100 events, and a misreading one (a warning) the old five lists,
//     never a lost event. An account refusing a type (a 4xx, as for a code
//     it does not have) costs that type only: a refused comma list is read
//     one type per request, and a refused type is skipped with a warning;
//     once the comma list is the account's form, its refusal fails the
//     run with the window kept. These type codes are UNCONFIRMED in the
//     reference; the fake lists them at /api/v4/events/types. The events
//     incoming_sms/outgoing_sms are not read: the sms_in/sms_out notes
//     carry the same messages.
//
// Activity ids are prefixed so notes, tasks and events never collide.
// Timestamps are Unix seconds as documented; milliseconds, numeric strings
// and date strings (RFC 3339 with an offset, or UTC date and time) are
// read as the same instant, and windows are checked in seconds.
//
// # Paging
//
// A list ends on 204 (or a 200 whose body is [], {} or null), or on a
// page without _links.next whose _page_count, if any, says it is the
// last. Records, their _embedded, custom_fields_values and user rights
// are read in the documented shapes and in PHP's (an empty object as [],
// a list as {} or as an object keyed by index). An empty 200 page
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
// 7 requests/s client-wide (Options.RateLimit). A list page answered 504
// once the retries are spent is asked again smaller (reference §3: "504
// on heavy pages → lower limit"): 50, 25, 10, 5 or 1, the next that
// divides the page size, so the page numbers stay on the records read;
// the cursor keeps the size until the list ends. A 429 waits retry_after
// from the problem+json body (else a Retry-After header, else backoff). A
// 403 with a non-JSON body, or any 403 after a 429, is amoCRM's IP ban: the Client stops sending
// anything, for every object, and fails with a fatal RateLimitError. 401 is
// "authentication failed (... wrong domain or token)", 402 "account unpaid",
// a 403 problem+json on /users "the token's user is not an admin".
//
// Not read: deleted tasks and notes (the API has no feed for them), loss
// reasons, tags, If-Modified-Since.
package amocrm
