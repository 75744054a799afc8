// Package checkpoint reads and writes hivegym checkpoints in the safetensors format
// (https://github.com/huggingface/safetensors), so a policy trained here loads in
// PyTorch (safetensors.torch.load_file, then load_state_dict) and back.
//
// A file is an 8-byte little-endian header length N, an N-byte JSON header, and the
// tensors' raw little-endian bytes. The header maps each tensor name to its dtype
// (F32, F64 or I64 here), shape and data_offsets [begin, end) into the data, and the
// reserved key __metadata__ to a string→string map. Save writes deterministically —
// tensors sorted by name, sorted JSON keys, the header space-padded to a multiple of
// 8 bytes — so identical parameters give byte-identical files. Load validates
// everything (see Load) and returns errors wrapping ErrFormat; it never panics, and
// FuzzLoad checks that.
//
// # hivegym's conventions
//
// Network parameters are stored as F32 tensors under their nn names (ModuleTensors,
// RestoreModule), optionally with a prefix; an Adam state as "optim.m.<param>",
// "optim.v.<param>" and the I64 scalar "optim.step" (FromAdam, ToAdam). The metadata
// keys are the Meta* constants: format ("hivegym"), hivegym.version, hivegym.config_hash,
// hivegym.observation_space, hivegym.action_space, hivegym.step, hivegym.policy,
// hivegym.algorithm, hivegym.backend and hivegym.spec. The learners fill them; a loader
// calls CheckMeta with the values it requires (the current spaces) and refuses a
// checkpoint that does not match, with an error naming every difference.
//
// # What this package must not do
//
// It knows the file format and the naming conventions, nothing of training: it does not
// choose file names or directories (the run store does), it never interprets tensor
// values, and it depends only on nn's Param, Module and AdamState types.
package checkpoint
