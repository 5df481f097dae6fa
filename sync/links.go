package sync

import (
	"context"
	"errors"
	"log/slog"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/warehouse"
)

// storeRecordLinks asks a connector that is a connectors.RecordLinker
// where its records open, when the warehouse has no links of it yet or the
// job is --full, and stores them under the run's lease. Links are not
// data: a CRM that cannot say (HubSpot without the oauth scope) costs a
// warning and the sync goes on; explain then shows records without links,
// and the next sync asks again. Only a lost lease is an error, which ends
// the connector's run; a cancelled ctx leaves it to the objects, whose runs
// record the interruption.
func (e *Engine) storeRecordLinks(ctx context.Context, j Job, lease *warehouse.Lease, log *slog.Logger) error {
	lk, ok := j.Connector.(connectors.RecordLinker)
	if !ok {
		return nil
	}
	if !j.Full {
		has, err := e.store().HasRecordLinks(ctx, lease.Connector)
		if err != nil {
			if ctx.Err() == nil {
				log.WarnContext(ctx, "record links not read", "error", err)
			}
			return nil
		}
		if has {
			return nil
		}
	}
	links, err := lk.RecordLinks(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		log.WarnContext(ctx, "no record links: explain shows this connector's records without links to the CRM", "error", err)
		return nil
	}
	if err := e.store().SaveRecordLinksFenced(ctx, lease, links); err != nil {
		if _, lost := errors.AsType[*warehouse.LostLeaseError](err); lost {
			return err
		}
		log.WarnContext(ctx, "record links not stored", "error", err)
	}
	return nil
}

func (b boundedStore) HasRecordLinks(ctx context.Context, connector string) (bool, error) {
	if err := b.acquire(ctx); err != nil {
		return false, err
	}
	defer b.release()
	return b.Store.HasRecordLinks(ctx, connector)
}

func (b boundedStore) SaveRecordLinksFenced(ctx context.Context, l *warehouse.Lease, links []connectors.RecordLink) error {
	if err := b.acquire(ctx); err != nil {
		return err
	}
	defer b.release()
	return b.Store.SaveRecordLinksFenced(ctx, l, links)
}
