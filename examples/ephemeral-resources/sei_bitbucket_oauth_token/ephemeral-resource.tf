terraform {
  required_providers {
    sei = {
      source = "sei-oss/sei"
    }
  }
}

variable "consumer_secret" {
  type      = string
  ephemeral = true
}

# A fresh two-hour token at every run, never stored anywhere.
ephemeral "sei_bitbucket_oauth_token" "bb" {
  client_id     = "tf-consumer"
  client_secret = var.consumer_secret
}

# Hand it to anything that takes an ephemeral value, such as another
# provider's configuration.
locals {
  bitbucket_token = ephemeral.sei_bitbucket_oauth_token.bb.access_token
}
