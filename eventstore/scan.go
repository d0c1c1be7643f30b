package eventstore

import "context"

// ScanAll reads $all after position after, up to the head as it was when
// the scan began, in batches of batchSize, and hands each batch to fn in
// order. It stops at fn's first error, or ctx's.
func ScanAll(ctx context.Context, s Store, after Position, batchSize int, fn func(batch []RecordedEvent, head Position) error) error {
	head, err := s.Head(ctx)
	if err != nil {
		return err
	}
	for after < head {
		batch, err := s.ReadAll(ctx, after, batchSize)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		if err := fn(batch, head); err != nil {
			return err
		}
		after = batch[len(batch)-1].Position
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}
