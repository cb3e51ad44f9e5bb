package policies

# The seed rule for CI change requests, unchanged from OPA.
violation["infra-change-without-approval"] {
  input.change_type == "infra"
  not input.approval == true
}

# A repository rule over ringfence's input: no yarn here.
deny[msg] {
  some i
  input.effects[i].kind == "exec"
  input.effects[i].attrs.program == "yarn"
  msg := "this repository uses npm; yarn would rewrite the lock file"
}
