# Three Docker Swarm nodes for MiniTwit on DigitalOcean, their private
# network and firewall, and the Spaces bucket the backups go to.
#
# Credentials come from the environment, never from files here:
#   DIGITALOCEAN_TOKEN                                 the API token
#   SPACES_ACCESS_KEY_ID, SPACES_SECRET_ACCESS_KEY     for the bucket
terraform {
  required_version = ">= 1.6"

  required_providers {
    digitalocean = {
      source  = "digitalocean/digitalocean"
      version = "~> 2.60"
    }
  }
}

provider "digitalocean" {}
