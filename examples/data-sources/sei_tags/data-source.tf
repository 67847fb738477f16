terraform {
  required_providers {
    sei = {
      source = "sei-oss/sei"
    }
  }
}

# Tags by name: SEI's integrations take tag ids.
data "sei_tags" "team" {
  names = ["platform", "payments"]
}

resource "sei_bitbucket_integration" "platform" {
  name      = "bb-platform-satellite"
  satellite = true
  tags      = [data.sei_tags.team.ids["platform"], data.sei_tags.team.ids["payments"]]
}

output "tag_ids" {
  value = data.sei_tags.team.ids
}
