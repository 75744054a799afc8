package scheme_test

import (
	"fmt"

	"github.com/hivegym/hivegym/scheme"
)

// A full compute-marketplace deal with signatures "none": the environment stamps the
// sender, Step validates each message and returns the effects the chain must apply.
func Example() {
	s, err := scheme.ByName(scheme.ComputeMarketplace)
	if err != nil {
		panic(err)
	}
	const client, provider = 1, 2
	th, _ := scheme.NewThread(7, client, provider)
	terms := scheme.Terms{
		GPUCount: 1, CPUCores: 8, RAMGB: 32, Asset: scheme.AssetUSDC,
		Duration: 24, Start: 30, PricePerHour: 1_000_000, Collateral: 500_000,
		OfferDeadline: 20, JobDeadline: 100, ArbitrationDeadline: 150,
	}
	msgs := []scheme.Message{
		{From: client, To: provider, Seq: 1, Type: scheme.MsgRequest, Terms: terms},
		{From: provider, To: client, Seq: 1, Type: scheme.MsgOffer, Terms: terms},
		{From: client, To: provider, Seq: 2, Type: scheme.MsgAccept, Terms: terms},
		{From: scheme.SystemID, Type: scheme.MsgEscrowLocked},
		{From: provider, To: client, Seq: 2, Type: scheme.MsgAttestation, Stage: scheme.StageStart, Terms: terms},
		{From: provider, To: client, Seq: 3, Type: scheme.MsgAttestation, Stage: scheme.StageComplete},
		{From: scheme.SystemID, Type: scheme.MsgValidated, Approved: true},
	}
	var effects []scheme.Effect // reused buffer
	for i := range msgs {
		msgs[i].Thread = th.ID
		effects, err = s.Step(&th, &msgs[i], int64(10+i), effects[:0])
		if err != nil {
			fmt.Println("rejected:", err)
			continue
		}
		for _, e := range effects {
			if e.Kind != scheme.EffStateChange {
				fmt.Println(e)
			}
		}
	}
	// Once the thread has ended, every message is rejected and changes nothing.
	_, err = s.Step(&th, &msgs[1], 20, nil)
	fmt.Println(err)
	fmt.Println(th.State, th.Reason)
	// Output:
	// RequestEscrowLock 1->escrow USDC 2000000
	// Attest buy 1->2 USDC 2000000
	// LockCollateral 2->escrow USDC 500000
	// Attest sell 2->1 USDC 500000
	// Attest validation system->2 approved
	// PayProvider escrow->2 USDC 2000000
	// ReturnCollateral escrow->2 USDC 500000
	// thread has ended: no message is accepted after the thread ended
	// Settled completed
}
