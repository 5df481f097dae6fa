package connectors

import (
	"context"
	"time"
)

// Connector pulls one CRM account into canonical records.
//
// Implementations are safe for concurrent Pull calls on different objects:
// the sync engine pulls the objects of one connector concurrently, and the
// connector's shared Client keeps them all inside the CRM's rate limit.
type Connector interface {
	// Name is the connector's unique name from the config; it is the key of
	// every warehouse row.
	Name() string
	// Objects lists the objects this connector pulls, in the order a first
	// sync should run them when it cannot run them concurrently (users and
	// stages first).
	Objects() []Object
	// Pull fetches the pages of obj changed since cursor (everything when
	// cursor is empty) and hands each one, in order, to emit. Each page's
	// Cursor resumes right after it, so that a pull stopped at any moment
	// and started again from the last stored cursor loses and duplicates
	// nothing. If emit returns an error, Pull returns it at once.
	// Errors are *Error values carrying the connector, object and page.
	Pull(ctx context.Context, obj Object, cursor string, emit func(context.Context, *Page) error) error
	// Check verifies the credentials and the permissions the sync needs,
	// writing nothing. It returns warnings (such as a token that expires
	// soon) beside a nil error.
	Check(ctx context.Context) (warnings []string, err error)
}

// Reconciler is implemented by connectors whose CRM has no feed of deleted
// records (Bitrix24). ListIDs hands every live id of obj, in batches, to emit;
// the sync engine then flags as deleted the stored records it did not see.
type Reconciler interface {
	// ReconcileObjects lists the objects that need reconciliation.
	ReconcileObjects() []Object
	ListIDs(ctx context.Context, obj Object, emit func(ids []string) error) error
}

// PartialPuller is implemented by connectors whose pull from an empty
// cursor may leave records of an object out: those older than the
// connector's since, which a first sync (and sync --full) does not read.
// The ids such a pull brings are then no listing of every live record, so
// the sync engine lists a Reconciler's ids with ListIDs before it flags any
// deleted, and never flags a record because the pull skipped it.
type PartialPuller interface {
	// PartialPull reports whether a pull of obj from an empty cursor
	// leaves records out.
	PartialPull(obj Object) bool
}

// Token is an OAuth access token with its refresh token.
type Token struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	Expiry       time.Time `json:"expiry"`
}

// TokenStore persists rotating OAuth tokens. The warehouse implements it; a
// connector that refreshes a token saves the new one before it uses it, so a
// crash between the refresh and the save cannot lock the account out.
type TokenStore interface {
	// LoadToken returns the stored token of connector; ok is false when
	// none is stored yet.
	LoadToken(ctx context.Context, connector string) (t Token, ok bool, err error)
	SaveToken(ctx context.Context, connector string, t Token) error
}
