terraform {
  required_providers {
    sei = {
      source = "sei-oss/sei"
    }
  }
}

variable "bbdc_url" {
  type        = string
  description = "Your Data Center's base URL, such as https://bitbucket.acme.internal."
}

variable "bbdc_token" {
  type      = string
  ephemeral = true
}

# A Data Center reachable from where Terraform runs: checked live at plan.
resource "sei_bitbucket_server_integration" "onprem" {
  name         = "bbdc-prod"
  description  = "On-prem Bitbucket"
  url          = var.bbdc_url
  projects     = ["Platform"]   # project names, not keys
  repositories = ["api", "web"] # repository names, not PROJECT/slug
  tags         = ["17"]

  credential {
    username    = "svc-sei"      # the user the token belongs to
    password_wo = var.bbdc_token # a password or that user's HTTP access token
  }
  credentials_version = 1 # bump to re-send a rotated token
}

# A private server only an SEI ingestion satellite reaches: no credentials
# are sent and nothing is checked from here.
resource "sei_bitbucket_server_integration" "private" {
  name      = "bbdc-private"
  url       = "https://git.acme.internal/bitbucket"
  satellite = true
}
