terraform {
  required_providers {
    sei = {
      source = "sei-oss/sei"
    }
  }
}

# Ephemeral: the token never lands in a plan file or state.
# Set it with TF_VAR_ops_token.
variable "ops_token" {
  type      = string
  ephemeral = true
}

resource "sei_bitbucket_credential" "ops" {
  auth_type           = "api_token"
  username            = "ops@acme.example"
  password_wo         = var.ops_token
  password_wo_version = 1 # bump after rotating the token
  workspaces          = ["acme"]
}

# Fail loudly, but as a warning, when the credential stops working.
check "ops_credential" {
  assert {
    condition     = sei_bitbucket_credential.ops.valid == true
    error_message = "The ops Bitbucket credential is not valid."
  }
}
