package fieldsync

import "context"

type actorKey struct{}

// WithActor returns a context that carries who acts, for the audit trail
// of writes that are not otherwise told (account and device changes).
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor carried by ctx; outside a request (the admin
// commands) it is the "system" actor.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{UserID: "system"}
}
