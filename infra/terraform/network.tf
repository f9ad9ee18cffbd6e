# One VCN with one public subnet, reached through an internet gateway. The subnet names its own
# security list: OCI's default list opens SSH to the whole internet, so it is emptied and unused.

locals {
  tags = merge({ "app" = "tollgate" }, var.freeform_tags)
}

resource "oci_core_vcn" "tollgate" {
  compartment_id = var.compartment_ocid
  cidr_blocks    = [var.vcn_cidr]
  display_name   = "${var.name}-vcn"
  dns_label      = "tollgate"
  freeform_tags  = local.tags
}

resource "oci_core_internet_gateway" "tollgate" {
  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.tollgate.id
  display_name   = "${var.name}-internet-gateway"
  enabled        = true
  freeform_tags  = local.tags
}

resource "oci_core_route_table" "public" {
  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.tollgate.id
  display_name   = "${var.name}-public-routes"
  freeform_tags  = local.tags

  route_rules {
    description       = "Everything outside the VCN through the internet gateway"
    destination       = "0.0.0.0/0"
    destination_type  = "CIDR_BLOCK"
    network_entity_id = oci_core_internet_gateway.tollgate.id
  }
}

resource "oci_core_security_list" "public" {
  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.tollgate.id
  display_name   = "${var.name}-public-security-list"
  freeform_tags  = local.tags

  egress_security_rules {
    description = "Any outbound traffic (packages, images, Let's Encrypt, the protected API)"
    destination = "0.0.0.0/0"
    protocol    = "all"
  }

  ingress_security_rules {
    description = "HTTP: the API through nginx, and Let's Encrypt's HTTP-01 check"
    source      = "0.0.0.0/0"
    protocol    = "6"
    tcp_options {
      min = 80
      max = 80
    }
  }

  ingress_security_rules {
    description = "HTTPS"
    source      = "0.0.0.0/0"
    protocol    = "6"
    tcp_options {
      min = 443
      max = 443
    }
  }

  ingress_security_rules {
    description = "SSH from the administrators' addresses only"
    source      = var.ssh_allowed_cidr
    protocol    = "6"
    tcp_options {
      min = 22
      max = 22
    }
  }

  ingress_security_rules {
    description = "Path MTU discovery (ICMP fragmentation needed)"
    source      = "0.0.0.0/0"
    protocol    = "1"
    icmp_options {
      type = 3
      code = 4
    }
  }

  ingress_security_rules {
    description = "ICMP destination unreachable from inside the VCN"
    source      = var.vcn_cidr
    protocol    = "1"
    icmp_options {
      type = 3
    }
  }
}

# Takes over the default security list OCI creates with every VCN and leaves it without a rule.
resource "oci_core_default_security_list" "unused" {
  manage_default_resource_id = oci_core_vcn.tollgate.default_security_list_id
  display_name               = "${var.name}-default-security-list-unused"
  freeform_tags              = local.tags
}

resource "oci_core_subnet" "public" {
  compartment_id             = var.compartment_ocid
  vcn_id                     = oci_core_vcn.tollgate.id
  cidr_block                 = var.subnet_cidr
  display_name               = "${var.name}-public-subnet"
  dns_label                  = "public"
  route_table_id             = oci_core_route_table.public.id
  security_list_ids          = [oci_core_security_list.public.id]
  prohibit_public_ip_on_vnic = false
  freeform_tags              = local.tags
}
