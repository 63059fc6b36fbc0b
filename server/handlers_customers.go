package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fieldsync/fieldsync"
)

type customerRequest struct {
	Name   string `json:"name"`
	Phone  string `json:"phone"`
	UserID string `json:"user_id"`
}

func (s *Server) handleCreateCustomer() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req customerRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		cu := &fieldsync.Customer{ID: newID(), Name: req.Name, Phone: req.Phone, UserID: req.UserID, CreatedAt: s.deps.Now().UTC()}
		if err := cu.Validate(); err != nil {
			return err
		}
		if err := s.deps.Store.CreateCustomer(c.Request().Context(), cu, actor(c)); err != nil {
			return err
		}
		return respond(c, http.StatusCreated, cu)
	}
}

// handleGetCustomer serves staff, and a customer their own record.
func (s *Server) handleGetCustomer() echo.HandlerFunc {
	return func(c echo.Context) error {
		cu, err := s.deps.Store.Customer(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		if p := principalFrom(c); p.Is(fieldsync.RoleCustomer) && cu.UserID != p.UserID {
			return notVisible(fieldsync.EntityCustomer, cu.ID)
		}
		return respond(c, http.StatusOK, cu)
	}
}

type siteRequest struct {
	CustomerID string         `json:"customer_id"`
	Address    string         `json:"address"`
	Zone       fieldsync.Zone `json:"zone"`
}

func (s *Server) handleCreateSite() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req siteRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		site := &fieldsync.Site{ID: newID(), CustomerID: req.CustomerID, Address: req.Address, Zone: req.Zone, CreatedAt: s.deps.Now().UTC()}
		if err := site.Validate(); err != nil {
			return err
		}
		if err := s.deps.Store.CreateSite(c.Request().Context(), site, actor(c)); err != nil {
			return err
		}
		return respond(c, http.StatusCreated, site)
	}
}

func (s *Server) handleGetSite() echo.HandlerFunc {
	return func(c echo.Context) error {
		site, err := s.deps.Store.Site(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, site)
	}
}

type assetRequest struct {
	CustomerID      string             `json:"customer_id"`
	Category        fieldsync.Category `json:"category"`
	Model           string             `json:"model"`
	Serial          string             `json:"serial"`
	Seller          string             `json:"seller"`
	InvoiceDate     string             `json:"invoice_date"`
	ReceiptDate     string             `json:"receipt_date"`
	ManufactureDate string             `json:"manufacture_date"`
}

func (s *Server) handleCreateAsset() echo.HandlerFunc {
	return func(c echo.Context) error {
		var req assetRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		a := &fieldsync.Asset{
			ID: newID(), CustomerID: req.CustomerID, Category: req.Category, Model: req.Model, Serial: req.Serial, Seller: req.Seller,
			InvoiceDate: req.InvoiceDate, ReceiptDate: req.ReceiptDate, ManufactureDate: req.ManufactureDate, CreatedAt: s.deps.Now().UTC(),
		}
		if err := a.Validate(); err != nil {
			return err
		}
		if err := s.deps.Store.CreateAsset(c.Request().Context(), a, actor(c)); err != nil {
			return err
		}
		return respond(c, http.StatusCreated, a)
	}
}

func (s *Server) handleGetAsset() echo.HandlerFunc {
	return func(c echo.Context) error {
		a, err := s.deps.Store.Asset(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		return respond(c, http.StatusOK, a)
	}
}
