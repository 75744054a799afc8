// Package strategy holds hivegym's scripted negotiation strategies: pure decision logic
// for one side of a price negotiation, used as baselines and as scripted opponents for
// learned policies.
//
// # The view
//
// A strategy sees only a [Negotiation]: its [Side] ([Buyer] = client, [Seller] =
// provider), the round and the scheme's round limit, the time since the thread opened
// and the offer deadline (ticks), its reservation price and its opening price (USD per
// hour), the offers of both sides so far (oldest first, in slices the caller owns), and,
// for clients, the job's value per hour, the remaining budget and the job's length. It
// sees nothing of the market, the chain or the other agents. [Strategy.Open] gives the
// first offer; [Strategy.Respond] answers the incoming offer (the last of Theirs) with a
// [Decision]: [Accept], [Reject] (walk away), [Counter] at a price, or [Wait] when there
// is nothing to answer. Stateful strategies also implement [Observer] and learn from the
// prices they see and the deals that close.
//
// Guarantees, for every strategy here and every view: Respond never accepts a price worse
// than the reservation; every price offered lies in [Negotiation.Bounds] (between the
// opening and the reservation); Respond counters only when [Negotiation.CanCounter] and
// accepts only when [Negotiation.CanAccept] (the round and deadline rules of
// specs/scheme.md's compute-marketplace scheme, where only the client accepts, and only a
// provider's offer); Respond does not allocate and does not change the strategy's state
// (beyond drawing from a stochastic strategy's random source).
// Randomness comes only from a *rand.Rand the caller seeds (internal/rng); there is no
// global source and no clock, so the same seed gives the same decisions.
//
// A Seller's Accept means agreement to the client's price: the environment sends it as
// CoopHive's identity counter-offer, which the client then accepts. Time-dependent tactics
// measure time with [Negotiation.Progress], the larger of t/t_max and the fraction of the
// round limit used.
//
// # The strategies
//
// Names are the registry's ([ByName], [Names]); defaults are in each type's documentation.
//
//   - accepter ([NaiveAccepter]): accepts any offer within its reservation, else counters
//     at its reservation. After CoopHive's naive buyer (Apiary). No parameters.
//   - rejecter ([NaiveRejecter]): never deals; a control. No parameters.
//   - kalman ([KalmanValuation]): CoopHive's Kalman agent (Apiary, apiary/shared.py): a
//     1-D Kalman filter on the market price, gain K = P/(P+R), with process noise Q added;
//     accepts an incoming price within a tolerance of the estimate (and within its
//     reservation), else counters at the updated estimate clamped to its range.
//     Parameters prior, prior_var, q, r, tolerance.
//   - boulware, conceder ([TimeDependent]): Faratin, Sierra & Jennings, "Negotiation
//     decision functions for autonomous agents" (Robotics and Autonomous Systems 24,
//     1998), time-dependent tactics: polynomial alpha = k + (1-k)(t/t_max)^(1/beta)
//     ([PolyAlpha]) or exponential alpha = e^((1-t/t_max)^beta ln k) = k^((1-t/t_max)^beta)
//     ([ExpAlpha]; the paper's form and the are the same function), and
//     offer = opening + alpha*(reservation-opening). boulware: beta 0.2; conceder: beta 5.
//     Accepts an offer at least as good as its next counter. Parameters kappa, beta,
//     exponential.
//   - tit-for-tat, tit-for-tat-random, tit-for-tat-avg ([TitForTat]): the same paper's
//     imitative tactics: relative (proportional imitation with delay delta), random
//     absolute (absolute imitation plus a random concession in [0, M]) and averaged
//     (proportional imitation over a window of gamma offers). Parameters delta; delta, m;
//     gamma.
//   - cost-plus ([CostPlus], provider): asks cost x (1 + margin), cost per hour from
//     [Cost] (electricity + gas per deal over the job's hours + capex over the hardware's
//     lifetime); accepts at least cost x (1 + min_margin). Parameters margin, min_margin.
//   - budget ([BudgetAware], client): opens at a fraction of its value per hour and
//     concedes linearly toward min(value per hour, remaining budget / job hours);
//     accepts at or below its current ceiling. Parameter open_fraction.
//   - random ([RandomLegal]): uniform among the legal, loss-free actions; counters
//     uniformly in its range. No parameters.
//
// # What it must not do
//
// It imports only the standard library and internal helpers: no market, env, scheme or
// chain types, so that the environment can wrap it and people can test it by hand. It
// performs no I/O, reads no clock, uses no global random source, and keeps no reference
// to a view after a call returns.
package strategy
