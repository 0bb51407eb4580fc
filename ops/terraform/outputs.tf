output "manager_ip" {
  description = "The manager's reserved public address: point DNS (DOMAIN, api.DOMAIN, grafana.DOMAIN) here and deploy through it."
  value       = digitalocean_reserved_ip.manager.ip_address
}

output "node_public_ips" {
  description = "Public address of each node, for SSH from the allow-list."
  value       = digitalocean_droplet.node[*].ipv4_address
}

output "node_private_ips" {
  description = "VPC address of each node: `docker swarm init --advertise-addr` and `join` use these."
  value       = digitalocean_droplet.node[*].ipv4_address_private
}

output "backup_bucket" {
  description = "S3_BUCKET for the backup service."
  value       = digitalocean_spaces_bucket.backups.name
}

output "backup_endpoint" {
  description = "S3_ENDPOINT for the backup service."
  value       = "https://${digitalocean_spaces_bucket.backups.region}.digitaloceanspaces.com"
}
