terraform {
  required_providers {
    sei = {
      source = "sei-oss/sei"
    }
  }
}

# An integration made in the SEI UI, looked up by name (ignoring case).
data "sei_bitbucket_integration" "ui_made" {
  name = "acme-bitbucket"
}

output "ui_made_repositories" {
  value = data.sei_bitbucket_integration.ui_made.repositories
}
