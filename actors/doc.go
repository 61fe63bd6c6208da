// Package actors owns the live state of the teams: one protoactor team
// actor per team (plus one for the master key) holds its name resolution,
// its limits, counters and spend, and admits or refuses every call.
//
// The contract:
//
//   - The registry actor turns each validated configs.Snapshot into team
//     actors: it spawns new teams, updates only changed ones, retires
//     removed ones (their calls in flight finish and are accounted; new
//     calls get 401), then publishes the Directory, the lock-free key
//     index the HTTP handlers authenticate with.
//   - A team actor's state is touched only inside its Receive. Its mailbox
//     uses protoactor's synchronized dispatcher: a message is processed
//     on the goroutine that posts it (or by the goroutine already draining
//     the mailbox), one at a time, in order. Receive never waits on the
//     network.
//   - Call sends a Chat and receives the team actor's answer on the
//     Chat's own channel: a refusal (*ChatResult with Err) or a *Lease of
//     one of the team's pooled worker actors. Lease.Run runs the upstream
//     call in that worker (also synchronized: on the caller's goroutine)
//     and then reports the usage back to the team actor before the caller
//     sees the result. A worker that panics is stopped by its team
//     actor's supervisor; the caller gets a 500 and the team lives on.
//   - A Chat that reaches a stopped team actor is answered 401 from the
//     dead letters, not left to time out.
//
// # The router's state
//
// What the gateway knows about each deployment — calls in flight, recent
// latency, this minute's requests and tokens, recent failures and its
// cooldown — is shared by every team that uses it (a global deployment's
// health is the same for all), so it cannot live in one team actor. It is
// kept in router (router.go): one record of atomics per deployment id,
// found in a sync.Map whose reads of existing keys take no lock. The team
// actor picks a deployment from it when it admits a call (its order tier
// and routing strategy, skipping cooling and full ones, and taking the
// deployment's rpm slot with one compare-and-swap, so a deployment's rpm
// holds exactly across teams); the worker reports each attempt's outcome
// and picks the next deployment for a retry. A router actor with a
// published snapshot was the alternative: it would cost every attempt a
// message, and an rpm limit could only be exact if admission went through
// its mailbox too. Nothing on this path takes a lock or waits for another
// goroutine.
//
// Only the last attempt of a call reaches its team actor: a call holds one
// rpm and parallel slot and is priced by the attempt that answered,
// however many attempts it took.
package actors
